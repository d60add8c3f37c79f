/* report-format.h: a validation report as text for people
 *
 * Reads the report of Manager.ValidateCredentials (DESIGN §3): a summary
 * line, then per protocol the endpoint, user name and TLS details that
 * worked, then every attempt and its outcome.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Appends @report (an a{sv}) to @out.  Keys that are absent, and values of
 * an unexpected type, are skipped.  The text is UTF-8, for
 * ctl_print_text(). */
void ctl_report_format (GString *out, GVariant *report);

G_END_DECLS
