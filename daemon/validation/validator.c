/* validator.c: checking an address and password against a provider's
 * IMAP and SMTP servers, for real
 *
 * IMAP and SMTP are checked at the same time.  IMAP user name candidates
 * are tried one after the other, each on a fresh connection (iCloud hangs
 * up after a failed login).  The preferred SMTP endpoint (587, STARTTLS)
 * gets a head start; if it fails, or has not greeted us by the end of the
 * head start, the next one (465, implicit TLS) runs alongside it, and the
 * first login that works wins; each attempt keeps why it was started, so
 * that the report can say why 465 was used.  SMTP signs in with the
 * provider's user name; if the server refuses it but IMAP accepted
 * another one, SMTP tries that one too (servers that know a user only by
 * local part).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "validator.h"

#include <glib/gi18n.h>

#include "mailsetup-error.h"
#include "password.h"

/* How long past the deadline we wait for a probe to report its own
 * time-out before recording one for it (a name lookup cannot be
 * interrupted). */
#define DEADLINE_GRACE_MS 250

typedef struct {
  MsProtocol protocol;
  GPtrArray *attempts;  /* of MsAttempt, in start order */
  MsAttempt *winner;
  guint next;           /* IMAP: next user name candidate; SMTP: next endpoint */
  gboolean done;
} Run;

typedef struct {
  MsProvider *provider;
  char *address;
  char *login;
  char *password;
  gint64 started_us;
  gint64 deadline;
  guint timeout_ms;
  Run imap;
  Run smtp;
  /* User names a server refused: the lock-out limit counts wrong names,
   * not the endpoints that refused the same one. */
  GHashTable *refused_names;
  MsAttempt *smtp_waiting;  /* refused SMTP login waiting for IMAP's user name */
  gboolean smtp_retried;
  GSource *head_start;
  GSource *deadline_source;
  GCancellable *cancellable;
  gulong cancelled_id;
  MsValidationProgressFunc progress;
  gpointer progress_data;
  gboolean finished;
  MsValidation *record;     /* what a failed validation did, for diagnosis */
} State;

/* The address user names are made from. */
static const char *
login_of (State *state)
{
  return state->login ? state->login : state->address;
}

static void
run_init (Run *run,
          MsProtocol protocol)
{
  run->protocol = protocol;
  run->attempts = g_ptr_array_new_with_free_func ((GDestroyNotify) ms_attempt_unref);
}

static void
clear_source (GSource **source)
{
  if (*source == NULL)
    return;
  g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}

static void
state_free (gpointer data)
{
  State *state = data;

  clear_source (&state->head_start);
  clear_source (&state->deadline_source);
  g_clear_object (&state->cancellable);
  g_clear_pointer (&state->smtp_waiting, ms_attempt_unref);
  g_clear_pointer (&state->refused_names, g_hash_table_unref);
  g_clear_pointer (&state->record, ms_validation_free);
  g_ptr_array_unref (state->imap.attempts);
  g_ptr_array_unref (state->smtp.attempts);
  ms_password_free (state->password);
  ms_provider_unref (state->provider);
  g_free (state->address);
  g_free (state->login);
  g_free (state);
}

void
ms_validation_free (MsValidation *validation)
{
  ms_provider_unref (validation->provider);
  g_ptr_array_unref (validation->imap_attempts);
  g_ptr_array_unref (validation->smtp_attempts);
  g_free (validation->address);
  g_free (validation->login);
  g_free (validation);
}

/* Errors, ranked by what they tell a person: a security failure says more
 * than a refused password, which says more than a server not answering. */
static int
error_rank (const GError *error)
{
  if (error == NULL || error->domain != MS_ERROR)
    return 0;

  switch ((MsError) error->code)
    {
    case MS_ERROR_CERTIFICATE_INVALID:
    case MS_ERROR_STARTTLS_UNAVAILABLE:
    case MS_ERROR_PROTOCOL_ERROR:
      return 5;
    case MS_ERROR_TLS_FAILED:
      return 4;
    case MS_ERROR_AUTHENTICATION_FAILED:
      return 3;
    case MS_ERROR_SERVICE_UNAVAILABLE:
      return 2;
    case MS_ERROR_CONNECTION_FAILED:
    case MS_ERROR_TIMEOUT:
      return 1;
    default:
      return 0;
    }
}

static gboolean
attempt_running (MsAttempt *attempt)
{
  return !attempt->finished;
}

static gboolean
run_has_running (Run *run)
{
  for (guint i = 0; i < run->attempts->len; i++)
    if (attempt_running (run->attempts->pdata[i]))
      return TRUE;
  return FALSE;
}

static void on_attempt_stage (MsAttempt *attempt, const char *stage, gpointer user_data);
static void on_attempt_done (MsAttempt *attempt, gpointer user_data);

static MsAttempt *
start_attempt (GTask *task,
               Run *run,
               const MsEndpoint *endpoint,
               const char *username,
               MsAttemptCause cause)
{
  State *state = g_task_get_task_data (task);
  MsAttempt *attempt;

  g_debug ("Trying %s %s:%u as %s (%s)", ms_protocol_to_string (run->protocol),
           endpoint->hostname, endpoint->port, username, ms_attempt_cause_to_string (cause));

  attempt = ms_attempt_start (run->protocol, endpoint, username, state->password,
                              state->deadline, on_attempt_stage, on_attempt_done, task);
  attempt->cause = cause;
  g_ptr_array_add (run->attempts, attempt);
  return attempt;
}

static gboolean
start_next_imap (GTask *task)
{
  State *state = g_task_get_task_data (task);
  GPtrArray *candidates = state->provider->imap_username_candidates;
  g_autofree char *username = NULL;

  if (state->imap.next >= candidates->len ||
      g_hash_table_size (state->refused_names) >= MS_VALIDATION_MAX_FAILED_LOGINS)
    return FALSE;

  username = ms_provider_expand (candidates->pdata[state->imap.next], login_of (state));
  start_attempt (task, &state->imap, state->provider->imap->pdata[0], username,
                 state->imap.next == 0 ? MS_ATTEMPT_CAUSE_FIRST : MS_ATTEMPT_CAUSE_NEXT_USERNAME);
  state->imap.next++;
  return TRUE;
}

static gboolean on_head_start_over (gpointer user_data);

/* Starts the next SMTP endpoint; @cause says why, and @previous (NULL for
 * the first) is the attempt whose silence or failure prompted it. */
static gboolean
start_next_smtp (GTask *task,
                 MsAttemptCause cause,
                 MsAttempt *previous)
{
  State *state = g_task_get_task_data (task);
  GPtrArray *endpoints = state->provider->smtp;
  const MsEndpoint *endpoint;
  g_autofree char *username = NULL;
  MsAttempt *attempt;

  clear_source (&state->head_start);

  if (state->smtp.next >= endpoints->len)
    return FALSE;

  endpoint = endpoints->pdata[state->smtp.next++];
  username = ms_provider_expand (endpoint->username_template, login_of (state));
  attempt = start_attempt (task, &state->smtp, endpoint, username, cause);

  /* The report tells why a fallback endpoint was used at all. */
  if (previous != NULL && cause == MS_ATTEMPT_CAUSE_HEAD_START_OVER)
    attempt->reason = g_strdup_printf (_("%s port %u had not answered within %d ms, so %s "
                                         "port %u was tried alongside it."),
                                       previous->endpoint->hostname, previous->endpoint->port,
                                       MS_VALIDATION_HEAD_START_MS, endpoint->hostname,
                                       endpoint->port);
  else if (previous != NULL && cause == MS_ATTEMPT_CAUSE_PREVIOUS_FAILED)
    attempt->reason = g_strdup_printf (_("%s port %u failed, so %s port %u was tried."),
                                       previous->endpoint->hostname, previous->endpoint->port,
                                       endpoint->hostname, endpoint->port);

  if (state->smtp.next < endpoints->len)
    {
      state->head_start = g_timeout_source_new (MS_VALIDATION_HEAD_START_MS);
      g_source_set_name (state->head_start, "[mailsetup] SMTP head start");
      g_source_set_callback (state->head_start, on_head_start_over, task, NULL);
      g_source_attach (state->head_start, g_main_context_get_thread_default ());
    }

  return TRUE;
}

static gboolean
on_head_start_over (gpointer user_data)
{
  GTask *task = user_data;
  State *state = g_task_get_task_data (task);
  MsAttempt *latest = g_ptr_array_index (state->smtp.attempts,
                                         state->smtp.attempts->len - 1);

  g_clear_pointer (&state->head_start, g_source_unref);

  /* A server that greeted us is alive: let it finish before trying
   * another endpoint, rather than log in twice. */
  if (!latest->spoke && !g_atomic_int_get (&latest->greeted) && !state->smtp.done)
    {
      g_debug ("SMTP port %u has not answered within %d ms; trying the next endpoint too",
               latest->endpoint->port, MS_VALIDATION_HEAD_START_MS);
      start_next_smtp (task, MS_ATTEMPT_CAUSE_HEAD_START_OVER, latest);
    }

  return G_SOURCE_REMOVE;
}

static void
abandon_all (State *state,
             const GError *reason)
{
  Run *runs[] = { &state->imap, &state->smtp };

  for (gsize r = 0; r < G_N_ELEMENTS (runs); r++)
    for (guint i = 0; i < runs[r]->attempts->len; i++)
      ms_attempt_abandon (runs[r]->attempts->pdata[i], reason);
}

/* "IMAP: <what happened>" for the list of other attempts. */
static char *
describe_attempt (MsAttempt *attempt)
{
  const char *protocol = attempt->protocol == MS_PROTOCOL_IMAP ? "IMAP" : "SMTP";

  if (attempt->error == NULL)
    return g_strdup_printf (_("%s: signed in to %s port %u as %s."), protocol,
                            attempt->endpoint->hostname, attempt->endpoint->port,
                            attempt->username);

  return g_strdup_printf ("%s: %s", protocol, attempt->error->message);
}

/* What to do about @primary, in the words of the provider's own help. */
static void
append_advice (GString *message,
               State *state,
               MsAttempt *primary)
{
  MsProvider *provider = state->provider;

  if (ms_attempt_auth_failed (primary))
    {
      if (g_strcmp0 (provider->password_kind, "app-specific") == 0 &&
          !ms_password_looks_app_specific (state->password))
        {
          g_string_append (message, "\n\n");
          g_string_append (message, _("The password you entered does not have the form of "
                                      "an app-specific password (xxxx-xxxx-xxxx-xxxx)."));
        }
      if (provider->password_hint != NULL)
        g_string_append_printf (message, "\n\n%s", provider->password_hint);
      if (provider->password_url != NULL)
        g_string_append_printf (message, " %s", provider->password_url);
    }
}

/* Whether no SMTP attempt got through: each one failed to connect or ran
 * out of time, as when the Internet provider blocks SMTP. */
static gboolean
smtp_unreachable (State *state)
{
  GPtrArray *attempts = state->smtp.attempts;

  for (guint i = 0; i < attempts->len; i++)
    {
      MsAttempt *attempt = attempts->pdata[i];

      if (!g_error_matches (attempt->error, MS_ERROR, MS_ERROR_CONNECTION_FAILED) &&
          !g_error_matches (attempt->error, MS_ERROR, MS_ERROR_TIMEOUT))
        return FALSE;
    }

  return attempts->len > 0;
}

static void
append_smtp_advice (GString *message)
{
  g_string_append (message, "\n\n");
  g_string_append (message, _("Some Internet providers block outgoing mail (SMTP) "
                              "traffic. Ask yours to lift the block, or use port 465."));
}

static GError *
compose_error (State *state)
{
  Run *runs[] = { &state->imap, &state->smtp };
  MsAttempt *primary = NULL;
  g_autoptr(GString) message = NULL;
  gboolean listed = FALSE;
  gboolean smtp_advice = smtp_unreachable (state);

  for (gsize r = 0; r < G_N_ELEMENTS (runs); r++)
    for (guint i = 0; i < runs[r]->attempts->len; i++)
      {
        MsAttempt *attempt = runs[r]->attempts->pdata[i];

        if (attempt->error != NULL &&
            (primary == NULL || error_rank (attempt->error) > error_rank (primary->error)))
          primary = attempt;
      }

  g_assert (primary != NULL);

  message = g_string_new (primary->error->message);
  append_advice (message, state, primary);
  /* Whichever error is reported, an SMTP that nobody answered gets its
   * advice: next to the SMTP error, or after the list that names it. */
  if (smtp_advice && primary->protocol == MS_PROTOCOL_SMTP)
    append_smtp_advice (message);

  for (gsize r = 0; r < G_N_ELEMENTS (runs); r++)
    for (guint i = 0; i < runs[r]->attempts->len; i++)
      {
        MsAttempt *attempt = runs[r]->attempts->pdata[i];
        g_autofree char *line = NULL;

        if (attempt == primary ||
            g_error_matches (attempt->error, MS_ERROR, MS_ERROR_CANCELLED))
          continue;

        if (!listed)
          {
            g_string_append_printf (message, "\n\n%s", _("Also tried:"));
            listed = TRUE;
          }
        line = describe_attempt (attempt);
        g_string_append_printf (message, "\n• %s", line);
      }

  if (smtp_advice && primary->protocol != MS_PROTOCOL_SMTP)
    append_smtp_advice (message);

  return g_error_new_literal (MS_ERROR, primary->error->code, message->str);
}

static void
finish (GTask *task,
        GError *error)
{
  State *state = g_task_get_task_data (task);
  g_autoptr(GError) abandoned = NULL;
  MsValidation *validation;

  if (state->finished)
    return;
  state->finished = TRUE;

  clear_source (&state->head_start);
  clear_source (&state->deadline_source);
  if (state->cancelled_id != 0)
    g_cancellable_disconnect (state->cancellable, state->cancelled_id);
  state->cancelled_id = 0;

  abandoned = g_error_new_literal (MS_ERROR, MS_ERROR_CANCELLED,
                                   _("Not needed: another server answered first."));
  abandon_all (state, abandoned);

  if (error == NULL && (state->imap.winner == NULL || state->smtp.winner == NULL))
    error = compose_error (state);

  validation = g_new0 (MsValidation, 1);
  validation->provider = ms_provider_ref (state->provider);
  validation->address = g_strdup (state->address);
  validation->login = g_strdup (state->login);
  validation->elapsed_us = g_get_monotonic_time () - state->started_us;
  validation->imap_attempts = g_ptr_array_ref (state->imap.attempts);
  validation->smtp_attempts = g_ptr_array_ref (state->smtp.attempts);
  validation->imap = state->imap.winner;
  validation->smtp = state->smtp.winner;

  if (error != NULL)
    {
      state->record = validation;
      g_task_return_error (task, error);
    }
  else
    {
      g_task_return_pointer (task, validation, (GDestroyNotify) ms_validation_free);
    }

  /* The reference taken in ms_validate_async(). */
  g_object_unref (task);
}

/* SMTP gets a second login only with a user name that IMAP has shown to
 * work, so a wrong password never costs more than one extra failure. */
static gboolean
retry_smtp_as_imap_user (GTask *task)
{
  State *state = g_task_get_task_data (task);
  g_autoptr(MsAttempt) refused = g_steal_pointer (&state->smtp_waiting);
  MsAttempt *imap = state->imap.winner;

  /* A name IMAP has just accepted is no guess: no limit applies. */
  if (imap == NULL || g_str_equal (imap->username, refused->username))
    return FALSE;

  state->smtp_retried = TRUE;
  start_attempt (task, &state->smtp, refused->endpoint, imap->username,
                 MS_ATTEMPT_CAUSE_IMAP_USERNAME);
  return TRUE;
}

/* Marks the protocols that have nothing left to try as done, and
 * finishes when both are. */
static void
settle (GTask *task)
{
  State *state = g_task_get_task_data (task);

  if (!state->imap.done && !run_has_running (&state->imap))
    state->imap.done = TRUE;

  if (!state->smtp.done && !run_has_running (&state->smtp))
    {
      if (state->smtp_waiting == NULL)
        state->smtp.done = TRUE;
      else if (state->imap.done && !retry_smtp_as_imap_user (task))
        state->smtp.done = TRUE;
    }

  if (state->imap.done && state->smtp.done)
    finish (task, NULL);
}

static void
on_attempt_stage (MsAttempt *attempt,
                  const char *stage,
                  gpointer user_data)
{
  State *state = g_task_get_task_data (G_TASK (user_data));

  if (state->progress != NULL)
    state->progress (attempt->protocol, stage, state->progress_data);
}

static void
on_attempt_done (MsAttempt *attempt,
                 gpointer user_data)
{
  GTask *task = user_data;
  State *state = g_task_get_task_data (task);
  Run *run = attempt->protocol == MS_PROTOCOL_IMAP ? &state->imap : &state->smtp;
  g_autoptr(GError) not_needed = NULL;

  if (attempt->error == NULL)
    {
      g_debug ("%s login as %s on port %u worked", ms_protocol_to_string (run->protocol),
               attempt->username, attempt->endpoint->port);
      run->winner = attempt;
      run->done = TRUE;
      if (run->protocol == MS_PROTOCOL_SMTP)
        clear_source (&state->head_start);

      not_needed = g_error_new_literal (MS_ERROR, MS_ERROR_CANCELLED,
                                        _("Not needed: another server answered first."));
      for (guint i = 0; i < run->attempts->len; i++)
        if (run->attempts->pdata[i] != attempt)
          ms_attempt_abandon (run->attempts->pdata[i], not_needed);

      settle (task);
      return;
    }

  g_debug ("%s attempt on port %u failed: %s", ms_protocol_to_string (run->protocol),
           attempt->endpoint->port, attempt->error->message);

  if (ms_attempt_auth_failed (attempt))
    g_hash_table_add (state->refused_names, g_strdup (attempt->username));

  /* A refused login on IMAP may only mean the wrong user name; anything
   * else on SMTP may be the port, so the next endpoint may work. */
  if (run->protocol == MS_PROTOCOL_IMAP && ms_attempt_auth_failed (attempt) &&
      start_next_imap (task))
    return;
  if (run->protocol == MS_PROTOCOL_SMTP && !ms_attempt_auth_failed (attempt) &&
      start_next_smtp (task, MS_ATTEMPT_CAUSE_PREVIOUS_FAILED, attempt))
    return;
  if (run->protocol == MS_PROTOCOL_SMTP && ms_attempt_auth_failed (attempt) &&
      !state->smtp_retried && state->smtp_waiting == NULL)
    state->smtp_waiting = ms_attempt_ref (attempt);

  settle (task);
}

static gboolean
on_deadline (gpointer user_data)
{
  GTask *task = user_data;
  State *state = g_task_get_task_data (task);
  Run *runs[] = { &state->imap, &state->smtp };

  g_clear_pointer (&state->deadline_source, g_source_unref);

  for (gsize r = 0; r < G_N_ELEMENTS (runs); r++)
    {
      for (guint i = 0; i < runs[r]->attempts->len; i++)
        {
          MsAttempt *attempt = runs[r]->attempts->pdata[i];
          g_autoptr(GError) timeout = NULL;

          if (!attempt_running (attempt))
            continue;

          guint seconds = (state->timeout_ms + 999) / 1000;

          timeout = g_error_new (MS_ERROR, MS_ERROR_TIMEOUT,
                                 ngettext ("%s port %u did not answer within %u second.",
                                           "%s port %u did not answer within %u seconds.",
                                           seconds),
                                 attempt->endpoint->hostname, attempt->endpoint->port,
                                 seconds);
          ms_attempt_abandon (attempt, timeout);
        }
      runs[r]->done = TRUE;
    }

  finish (task, NULL);
  return G_SOURCE_REMOVE;
}

static gboolean
finish_cancelled (gpointer user_data)
{
  GTask *task = user_data;
  State *state = g_task_get_task_data (task);

  if (!state->finished)
    finish (task, g_error_new_literal (MS_ERROR, MS_ERROR_CANCELLED,
                                       _("The check was cancelled.")));
  return G_SOURCE_REMOVE;
}

/* Runs inside g_cancellable_cancel(), where disconnecting would deadlock:
 * finish from a later main-loop iteration instead (an idle source, since
 * g_main_context_invoke() would call straight back in here). */
static void
on_cancelled (GCancellable *cancellable,
              gpointer user_data)
{
  GTask *task = user_data;
  g_autoptr(GSource) idle = g_idle_source_new ();

  g_source_set_callback (idle, finish_cancelled, g_object_ref (task), g_object_unref);
  g_source_attach (idle, g_task_get_context (task));
}

void
ms_validate_async (MsProvider *provider,
                   const char *address,
                   const char *login,
                   const char *password,
                   guint timeout_ms,
                   GCancellable *cancellable,
                   MsValidationProgressFunc progress,
                   gpointer progress_data,
                   GAsyncReadyCallback callback,
                   gpointer user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  State *state = g_new0 (State, 1);

  /* We report our own MS_ERROR_CANCELLED, not GIO's. */
  g_task_set_check_cancellable (task, FALSE);
  g_task_set_source_tag (task, ms_validate_async);
  g_task_set_task_data (task, state, state_free);

  state->provider = ms_provider_ref (provider);
  state->address = g_strdup (address);
  state->login = g_strdup (login);
  state->password = ms_password_dup (password);
  state->timeout_ms = timeout_ms;
  state->started_us = g_get_monotonic_time ();
  state->deadline = state->started_us + (gint64) timeout_ms * 1000;
  state->progress = progress;
  state->progress_data = progress_data;
  state->refused_names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  run_init (&state->imap, MS_PROTOCOL_IMAP);
  run_init (&state->smtp, MS_PROTOCOL_SMTP);

  state->deadline_source = g_timeout_source_new (timeout_ms + DEADLINE_GRACE_MS);
  g_source_set_name (state->deadline_source, "[mailsetup] validation deadline");
  g_source_set_callback (state->deadline_source, on_deadline, task, NULL);
  g_source_attach (state->deadline_source, g_task_get_context (task));

  if (cancellable != NULL)
    {
      state->cancellable = g_object_ref (cancellable);
      state->cancelled_id = g_cancellable_connect (cancellable, G_CALLBACK (on_cancelled),
                                                   task, NULL);
      if (g_cancellable_is_cancelled (cancellable))
        return;
    }

  start_next_imap (task);
  start_next_smtp (task, MS_ATTEMPT_CAUSE_FIRST, NULL);
}

MsValidation *
ms_validate_finish (GAsyncResult *result,
                    GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

MsValidation *
ms_validate_steal_record (GAsyncResult *result)
{
  State *state = g_task_get_task_data (G_TASK (result));

  return g_steal_pointer (&state->record);
}
