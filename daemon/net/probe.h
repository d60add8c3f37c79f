/* probe.h: what an IMAP or SMTP login probe is asked and what it reports
 *
 * A probe is one login attempt on one fresh connection, run in a worker
 * thread (see connection.h for how it waits).  ms_imap_probe_run() and
 * ms_smtp_probe_run() take the same request and fill the same result.
 *
 * Progress stages, in order (stage_cb gets these exact strings):
 *   implicit TLS:  "connecting", "tls", "greeting", "authenticating", "done"
 *   STARTTLS:      "connecting", "greeting", "tls", "authenticating", "done"
 * Each is emitted once per probe.  "connecting" covers the name lookup and
 * the TCP connection, so any later stage means the TCP connection is up.
 * "greeting" covers the greeting and the capability exchange (CAPABILITY /
 * EHLO).  "tls" is the handshake and certificate check; for STARTTLS it
 * starts when the STARTTLS command is sent and includes asking for the
 * capabilities again over TLS.  "done" is only emitted after a successful login;
 * a failing probe emits nothing more and returns its error.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

#include "connection.h"
#include "provider.h"

G_BEGIN_DECLS

#define MS_PROBE_STAGE_CONNECTING "connecting"
#define MS_PROBE_STAGE_TLS "tls"
#define MS_PROBE_STAGE_GREETING "greeting"
#define MS_PROBE_STAGE_AUTHENTICATING "authenticating"
#define MS_PROBE_STAGE_DONE "done"

/* Called in the probe's worker thread; @stage is one of the
 * MS_PROBE_STAGE_* strings (transfer none, static). */
typedef void (*MsProbeStageFunc) (const char *stage,
                                  gpointer user_data);

typedef struct _MsProbeResult MsProbeResult;

/* Called in the probe's worker thread after a successful login, with the
 * final @result, before the polite LOGOUT / QUIT: the caller may take the
 * result's contents over (and zero it) and report the verdict without
 * waiting one more round trip for the goodbye. */
typedef void (*MsProbeVerdictFunc) (MsProbeResult *result,
                                    gpointer user_data);

typedef struct {
  const char *host;
  guint16 port;
  MsSecurity security;
  /* Both NULL: check the connection only (TLS, certificate, greeting and
   * capabilities) and stop before logging in; "done" is not emitted and
   * the result says authenticated = FALSE. */
  const char *username;
  const char *password;   /* never logged; see ms_imap_probe_run() */
  gint64 deadline;        /* absolute, g_get_monotonic_time() µs */
  MsProbeStageFunc stage_cb;  /* or NULL */
  MsProbeVerdictFunc verdict_cb;  /* or NULL */
  /* Or NULL: set to 1 (g_atomic_int_set) as soon as the server's
   * greeting has been read, before any reply to our commands. */
  gint *greeted;
  gpointer user_data;
} MsProbeRequest;

struct _MsProbeResult {
  /* "LOGIN" (the IMAP command, or SMTP AUTH LOGIN), "PLAIN" (IMAP
   * AUTHENTICATE PLAIN or SMTP AUTH PLAIN), or "PREAUTH" when an IMAP
   * server logged the connection in without asking for the password. */
  char *mechanism;
  /* The verified TLS session; zeroed if TLS never came up. */
  MsTlsInfo tls;
  /* SMTP SIZE from the EHLO over TLS; 0 when unknown or unlimited. */
  guint64 max_message_size;
  gboolean authenticated;
  /* The certificate was refused for its dates: check the clock. */
  gboolean certificate_dates_wrong;
  /* From the start of the probe to the server's verdict on the login (or
   * to the failure); the polite LOGOUT / QUIT afterwards is not counted. */
  gint64 elapsed_us;
  /* IMAP capability atoms, or SMTP EHLO keyword lines ("SIZE 36700160"),
   * as last seen over TLS; NULL if none were seen. */
  GStrv capabilities;
};

/* Frees what @result holds and zeroes it. */
void ms_probe_result_clear (MsProbeResult *result);

G_END_DECLS
