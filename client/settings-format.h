/* settings-format.h: mail settings as text for people
 *
 * Reads the settings dictionary of DESIGN §3 (LookupProvider, the
 * validation report, Account.GetSettings) and lays it out the way a person
 * would copy it into a mail program.
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

/* Appends @text to @out as paragraphs wrapped to @width columns, each line
 * starting with @indent spaces.  Breaks at spaces and between wide (CJK)
 * characters; a word longer than the line is not split. */
void ctl_text_wrap (GString *out, const char *text, guint indent, guint width);

G_END_DECLS
