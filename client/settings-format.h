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
 * skipped.  With "login-required", the user names are not guessed: the
 * text of ctl_settings_login_text() says what to sign in with. */
void ctl_settings_format (GString *out, GVariant *settings);

/* Whether @settings (LookupProvider's) say "login-required": the address
 * (an iCloud+ custom domain) signs in only with the "login" option. */
gboolean ctl_settings_login_required (GVariant *settings);

/* What to tell a person about an address whose @settings say
 * "login-required": that it signs in with the provider's own address,
 * given with --login (transfer full); NULL when they do not say so. */
char *ctl_settings_login_text (GVariant *settings);

/* (transfer none): the string at @key of the a{sv} @settings, or NULL if it
 * is absent, empty or not a string.  It lives as long as @settings. */
const char *ctl_settings_lookup_string (GVariant *settings, const char *key);

/* The port (q) at @key of @settings, or 0 if absent or not a port. */
guint ctl_settings_lookup_port (GVariant *settings, const char *key);

/* Values line up in this column, under top-level and indented labels
 * alike. */
#define CTL_FORMAT_VALUE_COLUMN 15

/* Text for people is wrapped to this many columns. */
#define CTL_FORMAT_WRAP_WIDTH 72

/* The columns @str (UTF-8) takes on a terminal: wide (CJK) characters
 * count two, zero-width ones none. */
guint ctl_display_width (const char *str);

/* Appends @text and as many spaces as make it @width columns wide. */
void ctl_append_padded (GString *out, const char *text, guint width);

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

/* Appends a section for an endpoint: a blank line, @heading, and
 * "Server:" and "Port:" lines for what the a{sv} @values holds at
 * @host_key, @port_key (a q) and @security_key.  Returns FALSE, appending
 * nothing, when it holds none of them. */
gboolean ctl_format_endpoint (GString *out, const char *heading,
                              GVariant *values, const char *host_key,
                              const char *port_key,
                              const char *security_key);

/* "20.0 MiB per message" (transfer full). */
char *ctl_format_size_limit (guint64 bytes);

/* Appends @text to @out as paragraphs wrapped to @width columns, each line
 * starting with @indent spaces.  Breaks at spaces and between wide (CJK)
 * characters; a word longer than the line is not split. */
void ctl_text_wrap (GString *out, const char *text, guint indent, guint width);

/* Like ctl_text_wrap(), but for a text laid out in lines, such as the
 * daemon's messages with their lists: every line break of @text is kept,
 * and each line too long is wrapped on its own. */
void ctl_text_wrap_lines (GString *out, const char *text, guint indent,
                          guint width);

G_END_DECLS
