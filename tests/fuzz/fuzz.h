/* fuzz.h: what every fuzz target shares
 *
 * A target defines LLVMFuzzerTestOneInput().  Built with -Dfuzzing=true,
 * libFuzzer calls it; otherwise regression-runner.c does, once for each
 * file of the target's seed corpus.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

G_BEGIN_DECLS

int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t size);

/* Makes GLib warnings and criticals (a failed g_return_if_fail()) abort,
 * so the fuzzer reports them as crashes, and keeps debug output quiet.
 * Cheap to call on every input. */
void fuzz_setup (void);

/* Calls @func for each line of @data the way the connection hands lines
 * to the probes: split at "\n", one "\r" before it removed, NUL-terminated.
 * Like the connection, stops at a line holding a NUL byte.  The last line
 * counts even without its "\n". */
typedef void (*FuzzLineFunc) (const char *line,
                              gpointer user_data);
void fuzz_for_each_line (const uint8_t *data,
                         size_t size,
                         FuzzLineFunc func,
                         gpointer user_data);

/* Checks what ms_probe_sanitize() makes of @text: printable ASCII (and
 * the ellipsis), bounded, never the password.  Aborts otherwise. */
void fuzz_check_sanitize (const char *text);

G_END_DECLS
