/* json-writer.h: writing GVariant values as JSON (RFC 8259)
 *
 * GLib has no JSON writer and json-glib is not a dependency; the client only
 * needs to write, so this is the small piece it uses for --json.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Appends @value to @out as JSON, indented by two spaces per level, with
 * @level levels of indentation already in effect (0 at the top).
 *
 * Dictionaries become objects (non-string keys are written as strings, as
 * their JSON text); other arrays, tuples and dict entries become arrays;
 * variants are unwrapped; a Nothing maybe is null; integers are numbers,
 * doubles are numbers or null when not finite; strings, object paths and
 * signatures are strings, with control characters escaped and everything
 * else passed through as UTF-8. */
void ctl_json_append (GString *out, GVariant *value, guint level);

/* Appends @str (UTF-8) as a quoted, escaped JSON string. */
void ctl_json_append_string (GString *out, const char *str);

/* The JSON text of @value, ending in a newline (transfer full). */
char *ctl_json_from_variant (GVariant *value);

G_END_DECLS
