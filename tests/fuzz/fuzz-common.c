/* fuzz-common.c: what every fuzz target shares
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

static const char *
field (const GLogField *fields,
       gsize n_fields,
       const char *key)
{
  for (gsize i = 0; i < n_fields; i++)
    if (strcmp (fields[i].key, key) == 0 && fields[i].length < 0)
      return fields[i].value;

  return "";
}

/* GLib's own known bugs, not ours. */
static gboolean
is_glib_bug (const GLogField *fields,
             gsize n_fields)
{
  /* GLib 2.74 g_key_file_get_string(): a value with an invalid escape
   * sequence and then a backslash at its end sets its error twice. */
  return strcmp (field (fields, n_fields, "GLIB_DOMAIN"), "GLib") == 0
         && g_str_has_prefix (field (fields, n_fields, "MESSAGE"),
                              "GError set over the top of a previous GError")
         && strstr (field (fields, n_fields, "MESSAGE"),
                    "escape character at end of line") != NULL;
}

static GLogWriterOutput
quiet_writer (GLogLevelFlags log_level,
              const GLogField *fields,
              gsize n_fields,
              gpointer user_data)
{
  /* Debug and info output of millions of inputs is noise; a warning or a
   * critical is a finding: show it, then abort. */
  if ((log_level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
      && !is_glib_bug (fields, n_fields))
    {
      g_log_writer_standard_streams (log_level, fields, n_fields, user_data);
      abort ();
    }

  return G_LOG_WRITER_HANDLED;
}

void
fuzz_setup (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done))
    {
      g_log_set_writer_func (quiet_writer, NULL, NULL);
      g_once_init_leave (&done, 1);
    }
}

void
fuzz_for_each_line (const uint8_t *data,
                    size_t size,
                    FuzzLineFunc func,
                    gpointer user_data)
{
  const char *p = (const char *) data;
  const char *end = p + size;

  while (p < end)
    {
      const char *newline = memchr (p, '\n', end - p);
      gsize len = (newline != NULL ? newline : end) - p;
      g_autofree char *line = NULL;

      if (len > 0 && p[len - 1] == '\r')
        len--;
      if (memchr (p, '\0', len) != NULL)
        return;

      line = g_strndup (p, len);
      func (line, user_data);

      if (newline == NULL)
        return;
      p = newline + 1;
    }
}
