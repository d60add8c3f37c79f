/* settings-format.h: mail settings as text for people
 *
 * Reads the settings dictionary of DESIGN §3 (LookupProvider, the
 * validation report, Account.GetSettings) and lays it out the way a person
 * would copy it into a mail program.  The pieces it is made of are shared
 * with the other layouts (see report-format.h), so that a port, a size or
 * a "Label:  value" line looks the same everywhere.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Appends the settings in @settings (an a{sv}) to @out.  Only keys that are
 * present are shown; unknown keys and values of an unexpected type are
 * skipped. */
void ctl_settings_format (GString *out, GVariant *settings);

/* (transfer none): the string at @key of the a{sv} @settings, or NULL if it
 * is absent, empty or not a string.  It lives as long as @settings. */
const char *ctl_settings_lookup_string (GVariant *settings, const char *key);

/* The port (q) at @key of @settings, or 0 if absent or not a port. */
guint ctl_settings_lookup_port (GVariant *settings, const char *key);

/* Appends a line: @indent spaces, @label, and @value (if not NULL or empty)
 * in the column where the values of all such lines line up. */
void ctl_format_field (GString *out, guint indent, const char *label,
                       const char *value);

/* How mail programs label a "security" value: "tls" is "SSL/TLS",
 * "starttls" is "STARTTLS", anything else as it is (transfer none). */
const char *ctl_security_label (const char *security);

/* "993, SSL/TLS", or whichever half is known (0 and NULL are unknown);
 * (transfer full), NULL when neither is. */
char *ctl_format_port (guint port, const char *security);

/* "20.0 MiB per message" (transfer full). */
char *ctl_format_size_limit (guint64 bytes);

/* Appends @text to @out as paragraphs wrapped to @width columns, each line
 * starting with @indent spaces.  Breaks at spaces and between wide (CJK)
 * characters; a word longer than the line is not split. */
void ctl_text_wrap (GString *out, const char *text, guint indent, guint width);

G_END_DECLS
