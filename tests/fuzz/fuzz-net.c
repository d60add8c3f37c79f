/* fuzz-net.c: checks shared by the IMAP and SMTP fuzz targets
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "fuzz.h"

#include <string.h>

#include "probe-private.h"

/* Shaped like an app-specific password, as the probes see one. */
#define FUZZ_PASSWORD "abcd-efgh-ijkl-mnop"
#define FUZZ_MAX_TEXT 200

void
fuzz_check_sanitize (const char *text)
{
  g_autofree char *clean = ms_probe_sanitize (text, FUZZ_PASSWORD, FUZZ_MAX_TEXT);
  gsize len = strlen (clean);

  if (g_str_has_suffix (clean, "…"))
    len -= strlen ("…");
  /* A "<hidden>" may pass the limit by its own length at most. */
  g_assert_cmpuint (len, <, FUZZ_MAX_TEXT + strlen ("<hidden>"));
  for (gsize i = 0; i < len; i++)
    g_assert_true (clean[i] >= 0x20 && clean[i] < 0x7f);
  g_assert_null (strstr (clean, FUZZ_PASSWORD));
}
