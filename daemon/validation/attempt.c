/* attempt.c: one login probe, run in its own worker thread, reporting to
 * the main loop
 *
 * A probe blocks its thread (it waits through poll() with a deadline), so
 * each attempt gets a thread of its own: a hung server can delay only the
 * attempt that talks to it, never the main loop or other validations.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "attempt.h"

#include <string.h>

#include "mailsetup-error.h"
#include "net/imap-probe.h"
#include "net/smtp-probe.h"
#include "password.h"

const char *
ms_protocol_to_string (MsProtocol protocol)
{
  return protocol == MS_PROTOCOL_IMAP ? "imap" : "smtp";
}

const char *
ms_attempt_cause_to_string (MsAttemptCause cause)
{
  switch (cause)
    {
    case MS_ATTEMPT_CAUSE_HEAD_START_OVER:
      return "head-start-over";
    case MS_ATTEMPT_CAUSE_PREVIOUS_FAILED:
      return "previous-failed";
    case MS_ATTEMPT_CAUSE_NEXT_USERNAME:
      return "next-username";
    case MS_ATTEMPT_CAUSE_IMAP_USERNAME:
      return "imap-username";
    case MS_ATTEMPT_CAUSE_FIRST:
    default:
      return "first";
    }
}

MsAttempt *
ms_attempt_ref (MsAttempt *attempt)
{
  g_atomic_ref_count_inc (&attempt->ref_count);
  return attempt;
}

void
ms_attempt_unref (MsAttempt *attempt)
{
  if (!g_atomic_ref_count_dec (&attempt->ref_count))
    return;

  ms_password_free (attempt->password);
  ms_endpoint_free (attempt->endpoint);
  ms_probe_result_clear (&attempt->result);
  g_clear_error (&attempt->error);
  g_clear_object (&attempt->cancellable);
  g_main_context_unref (attempt->context);
  g_free (attempt->username);
  g_free (attempt->reason);
  g_free (attempt);
}

typedef struct {
  MsAttempt *attempt;
  const char *stage;
} StageReport;

static void
stage_report_free (gpointer data)
{
  StageReport *report = data;

  ms_attempt_unref (report->attempt);
  g_free (report);
}

/* A stage starts before its reply is read, so the server has spoken only
 * once the stage after its first reply began: TLS after the plain
 * greeting (STARTTLS), the greeting after the handshake (implicit TLS). */
static gboolean
server_has_spoken (MsAttempt *attempt,
                   const char *stage)
{
  if (g_str_equal (stage, MS_PROBE_STAGE_AUTHENTICATING))
    return TRUE;
  if (attempt->endpoint->security == MS_SECURITY_STARTTLS)
    return g_str_equal (stage, MS_PROBE_STAGE_TLS);
  return g_str_equal (stage, MS_PROBE_STAGE_GREETING);
}

static gboolean
deliver_stage (gpointer data)
{
  StageReport *report = data;
  MsAttempt *attempt = report->attempt;

  if (!g_str_equal (report->stage, MS_PROBE_STAGE_CONNECTING))
    attempt->connected = TRUE;
  if (server_has_spoken (attempt, report->stage))
    attempt->spoke = TRUE;

  if (attempt->stage_func != NULL)
    attempt->stage_func (attempt, report->stage, attempt->user_data);

  return G_SOURCE_REMOVE;
}

/* In the worker thread. */
static void
on_probe_stage (const char *stage,
                gpointer user_data)
{
  MsAttempt *attempt = user_data;
  StageReport *report = g_new0 (StageReport, 1);

  report->attempt = ms_attempt_ref (attempt);
  report->stage = stage;
  g_main_context_invoke_full (attempt->context, G_PRIORITY_DEFAULT,
                              deliver_stage, report, stage_report_free);
}

typedef struct {
  MsAttempt *attempt;
  MsProbeResult result;
  GError *error;
} Outcome;

static void
outcome_free (gpointer data)
{
  Outcome *outcome = data;

  ms_probe_result_clear (&outcome->result);
  g_clear_error (&outcome->error);
  ms_attempt_unref (outcome->attempt);
  g_free (outcome);
}

static gboolean
deliver_outcome (gpointer data)
{
  Outcome *outcome = data;
  MsAttempt *attempt = outcome->attempt;

  /* An abandoned attempt already has its outcome. */
  if (attempt->finished)
    return G_SOURCE_REMOVE;

  attempt->finished = TRUE;
  attempt->result = outcome->result;
  memset (&outcome->result, 0, sizeof outcome->result);
  attempt->error = g_steal_pointer (&outcome->error);

  if (attempt->done_func != NULL)
    attempt->done_func (attempt, attempt->user_data);

  return G_SOURCE_REMOVE;
}

/* In the worker thread, after a successful login and before the goodbye:
 * the verdict goes to the main loop now; the Outcome that run_probe()
 * sends later finds the attempt finished and is dropped. */
static void
on_probe_verdict (MsProbeResult *result,
                  gpointer user_data)
{
  MsAttempt *attempt = user_data;
  Outcome *outcome = g_new0 (Outcome, 1);

  outcome->attempt = ms_attempt_ref (attempt);
  outcome->result = *result;
  memset (result, 0, sizeof *result);
  g_main_context_invoke_full (attempt->context, G_PRIORITY_DEFAULT,
                              deliver_outcome, outcome, outcome_free);
}

static gpointer
run_probe (gpointer data)
{
  MsAttempt *attempt = data;
  Outcome *outcome = g_new0 (Outcome, 1);
  MsProbeRequest request = {
    .host = attempt->endpoint->hostname,
    .port = attempt->endpoint->port,
    .security = attempt->endpoint->security,
    .username = attempt->username,
    .password = attempt->password,
    .deadline = attempt->deadline,
    .stage_cb = on_probe_stage,
    .verdict_cb = on_probe_verdict,
    .greeted = &attempt->greeted,
    .user_data = attempt,
  };

  if (attempt->protocol == MS_PROTOCOL_IMAP)
    ms_imap_probe_run (&request, &outcome->result, attempt->cancellable, &outcome->error);
  else
    ms_smtp_probe_run (&request, &outcome->result, attempt->cancellable, &outcome->error);

  /* The password is not needed past this point; the main context never
   * reads it, so the thread can wipe it here. */
  if (attempt->password != NULL)
    explicit_bzero (attempt->password, strlen (attempt->password));

  outcome->attempt = attempt; /* hands over the thread's reference */
  g_main_context_invoke_full (attempt->context, G_PRIORITY_DEFAULT,
                              deliver_outcome, outcome, outcome_free);
  return NULL;
}

MsAttempt *
ms_attempt_start (MsProtocol protocol,
                  const MsEndpoint *endpoint,
                  const char *username,
                  const char *password,
                  gint64 deadline,
                  MsAttemptStageFunc stage_func,
                  MsAttemptDoneFunc done_func,
                  gpointer user_data)
{
  MsAttempt *attempt = g_new0 (MsAttempt, 1);
  g_autofree char *name = NULL;
  GThread *thread;

  g_atomic_ref_count_init (&attempt->ref_count);
  attempt->protocol = protocol;
  attempt->endpoint = ms_endpoint_new (endpoint->hostname, endpoint->port,
                                       endpoint->security, endpoint->username_template);
  attempt->username = g_strdup (username);
  attempt->password = ms_password_dup (password);
  attempt->deadline = deadline;
  attempt->started_us = g_get_monotonic_time ();
  attempt->cancellable = g_cancellable_new ();
  attempt->context = g_main_context_ref_thread_default ();
  attempt->stage_func = stage_func;
  attempt->done_func = done_func;
  attempt->user_data = user_data;

  name = g_strdup_printf ("%s:%u", ms_protocol_to_string (protocol), endpoint->port);
  thread = g_thread_new (name, run_probe, ms_attempt_ref (attempt));
  g_thread_unref (thread);

  return attempt;
}

void
ms_attempt_abandon (MsAttempt *attempt,
                    const GError *reason)
{
  attempt->stage_func = NULL;
  attempt->done_func = NULL;
  attempt->user_data = NULL;
  /* A login that worked has only its polite goodbye left (bounded by the
   * goodbye deadline): let it end the session properly. */
  if (!attempt->finished || attempt->error != NULL)
    g_cancellable_cancel (attempt->cancellable);

  if (!attempt->finished)
    {
      attempt->finished = TRUE;
      attempt->result.elapsed_us = g_get_monotonic_time () - attempt->started_us;
      attempt->error = g_error_copy (reason);
    }
}

gboolean
ms_attempt_auth_failed (MsAttempt *attempt)
{
  return g_error_matches (attempt->error, MS_ERROR, MS_ERROR_AUTHENTICATION_FAILED);
}
