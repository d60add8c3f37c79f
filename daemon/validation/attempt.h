/* attempt.h: one login probe, run in its own worker thread, reporting to
 * the main loop
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

#include "net/probe.h"
#include "providers/provider.h"

G_BEGIN_DECLS

typedef enum {
  MS_PROTOCOL_IMAP,
  MS_PROTOCOL_SMTP,
} MsProtocol;

/* "imap" or "smtp", as in Progress signals and reports (transfer none). */
const char *ms_protocol_to_string (MsProtocol protocol);

/* Why an attempt was started, for the report. */
typedef enum {
  MS_ATTEMPT_CAUSE_FIRST,            /* the first endpoint or user name */
  MS_ATTEMPT_CAUSE_HEAD_START_OVER,  /* the endpoint before had not answered in time */
  MS_ATTEMPT_CAUSE_PREVIOUS_FAILED,  /* the endpoint before failed */
  MS_ATTEMPT_CAUSE_NEXT_USERNAME,    /* the user name before was refused */
  MS_ATTEMPT_CAUSE_IMAP_USERNAME,    /* SMTP again, as the user name IMAP accepted */
} MsAttemptCause;

/* "first", "head-start-over", "previous-failed", "next-username" or
 * "imap-username", as in reports (transfer none). */
const char *ms_attempt_cause_to_string (MsAttemptCause cause);

typedef struct _MsAttempt MsAttempt;

/* Both are called in the main context that started the attempt. */
typedef void (*MsAttemptStageFunc) (MsAttempt *attempt,
                                    const char *stage,
                                    gpointer user_data);
typedef void (*MsAttemptDoneFunc) (MsAttempt *attempt,
                                   gpointer user_data);

/* Read-only for everybody but attempt.c, except as noted. */
struct _MsAttempt {
  gatomicrefcount ref_count;
  MsProtocol protocol;
  MsEndpoint *endpoint;
  char *username;
  gint64 started_us;      /* monotonic */

  /* Set by whoever started the attempt, right after starting it: */
  MsAttemptCause cause;
  char *reason;           /* why, in words for people, or NULL */

  /* Set in the main context when the attempt has finished: */
  gboolean finished;
  gboolean connected;     /* the TCP connection was made */
  gboolean spoke;         /* the server sent its greeting */
  gint greeted;           /* the same, set by the worker thread at once (atomic) */
  MsProbeResult result;
  GError *error;          /* NULL when the login worked */

  /* Private */
  char *password;         /* wiped as soon as the probe is over */
  gint64 deadline;
  GCancellable *cancellable;
  GMainContext *context;
  MsAttemptStageFunc stage_func;
  MsAttemptDoneFunc done_func;
  gpointer user_data;
};

/* Starts a probe of @endpoint as @username in a new thread.  @password is
 * copied (and the copy wiped after use).  With @username and @password
 * NULL the probe checks the connection only (see MsProbeRequest).  The callbacks run in the thread-
 * default main context until the attempt finishes or is abandoned.
 * Returns: (transfer full) */
MsAttempt *ms_attempt_start (MsProtocol protocol,
                             const MsEndpoint *endpoint,
                             const char *username,
                             const char *password,
                             gint64 deadline,
                             MsAttemptStageFunc stage_func,
                             MsAttemptDoneFunc done_func,
                             gpointer user_data);

/* Cancels the probe and drops the callbacks: nothing more is reported.
 * An attempt that has not finished is recorded as cancelled with @reason
 * (e.g. MS_ERROR_TIMEOUT when the validation ran out of time). */
void ms_attempt_abandon (MsAttempt *attempt,
                         const GError *reason);

/* Whether the server refused the user name or password. */
gboolean ms_attempt_auth_failed (MsAttempt *attempt);

MsAttempt *ms_attempt_ref (MsAttempt *attempt);
void ms_attempt_unref (MsAttempt *attempt);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsAttempt, ms_attempt_unref)

G_END_DECLS
