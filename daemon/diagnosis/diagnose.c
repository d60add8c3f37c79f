/* diagnose.c: the troubleshooting checklist of Manager.Diagnose
 *
 * The steps follow what Apple's help asks a person to check when mail
 * fails: can the servers be found and reached, is something blocking
 * outgoing mail, is the connection secure (and the clock right), does the
 * password work, how large may a message be.  Every network step runs at
 * the same time; the checklist comes back in a fixed order.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "diagnose.h"

#include <glib/gi18n.h>

#include "mailsetup-error.h"
#include "password.h"
#include "validation/attempt.h"
#include "validation/validator.h"

#define STATUS_PASS "pass"
#define STATUS_FAIL "fail"
#define STATUS_WARN "warn"
#define STATUS_SKIPPED "skipped"

typedef struct {
  char *id;
  char *title;
  const char *status;
  char *detail;
  char *advice;
} Step;

static void
step_free (Step *step)
{
  g_free (step->id);
  g_free (step->title);
  g_free (step->detail);
  g_free (step->advice);
  g_free (step);
}

typedef struct {
  MsProvider *provider;
  char *address;
  char *password;
  guint timeout_ms;
  gint64 deadline;
  GPtrArray *steps;          /* of Step, in checklist order */
  guint pending;             /* checks still running */
  GCancellable *cancellable; /* ours: cancelled at the deadline */
  GSource *deadline_source;
  GPtrArray *connections;    /* of MsAttempt, connection-only checks */
  GPtrArray *connectings;    /* of Connecting, their callback data */
  GCancellable *caller_cancellable;
  gulong caller_cancelled_id;
  gboolean finished;
} Diagnosis;

typedef struct {
  GTask *task;               /* not owned: attempts are abandoned before it goes */
  char *connect_id;
  char *tls_id;
} Connecting;

static void
connecting_free (gpointer data)
{
  Connecting *connecting = data;

  g_free (connecting->connect_id);
  g_free (connecting->tls_id);
  g_free (connecting);
}

static void
diagnosis_free (Diagnosis *diagnosis)
{
  if (diagnosis->deadline_source != NULL)
    {
      g_source_destroy (diagnosis->deadline_source);
      g_source_unref (diagnosis->deadline_source);
    }
  g_clear_pointer (&diagnosis->provider, ms_provider_unref);
  g_free (diagnosis->address);
  ms_password_free (diagnosis->password);
  g_ptr_array_unref (diagnosis->steps);
  g_ptr_array_unref (diagnosis->connections);
  g_ptr_array_unref (diagnosis->connectings);
  g_clear_object (&diagnosis->caller_cancellable);
  g_object_unref (diagnosis->cancellable);
  g_free (diagnosis);
}

/* Adds a step; pending steps get their outcome later. */
static Step *
add_step (Diagnosis *diagnosis,
          const char *id,
          const char *title,
          const char *status)
{
  Step *step = g_new0 (Step, 1);

  step->id = g_strdup (id);
  step->title = g_strdup (title);
  step->status = status;
  g_ptr_array_add (diagnosis->steps, step);
  return step;
}

static void
set_outcome (Step *step,
             const char *status,
             const char *detail,
             const char *advice)
{
  step->status = status;
  g_free (step->detail);
  step->detail = g_strdup (detail);
  g_free (step->advice);
  step->advice = g_strdup (advice);
}

static Step *
find_step (Diagnosis *diagnosis,
           const char *id)
{
  for (guint i = 0; i < diagnosis->steps->len; i++)
    {
      Step *step = diagnosis->steps->pdata[i];

      if (g_str_equal (step->id, id))
        return step;
    }
  return NULL;
}

static GVariant *
steps_to_variant (Diagnosis *diagnosis)
{
  g_auto(GVariantBuilder) list = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("aa{sv}"));

  for (guint i = 0; i < diagnosis->steps->len; i++)
    {
      Step *step = diagnosis->steps->pdata[i];
      g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);

      g_variant_dict_insert (&dict, "id", "s", step->id);
      g_variant_dict_insert (&dict, "title", "s", step->title);
      g_variant_dict_insert (&dict, "status", "s", step->status);
      g_variant_dict_insert (&dict, "detail", "s", step->detail ? step->detail : "");
      g_variant_dict_insert (&dict, "advice", "s", step->advice ? step->advice : "");
      g_variant_builder_add_value (&list, g_variant_dict_end (&dict));
    }

  return g_variant_builder_end (&list);
}

/* The size limit is in the EHLO reply of the first SMTP endpoint, in the
 * provider's order, that got that far: 465's when 587 is blocked.  Called
 * once every connection check has ended or been abandoned. */
static void
record_size (Diagnosis *diagnosis)
{
  Step *size = find_step (diagnosis, "size");
  MsAttempt *asked = NULL;

  if (size == NULL || size->status != NULL)
    return;

  for (guint i = 0; i < diagnosis->connections->len && asked == NULL; i++)
    {
      MsAttempt *attempt = diagnosis->connections->pdata[i];

      if (attempt->protocol == MS_PROTOCOL_SMTP && attempt->error == NULL)
        asked = attempt;
    }

  if (asked == NULL)
    set_outcome (size, STATUS_SKIPPED, _("The server could not be asked."), NULL);
  else if (asked->result.max_message_size > 0)
    {
      g_autofree char *limit = g_format_size_full (asked->result.max_message_size,
                                                   G_FORMAT_SIZE_IEC_UNITS);
      g_autofree char *detail = NULL;

      /* Translators: a host name, a port number, then a size such as
       * “20.0 MiB”. */
      detail = g_strdup_printf (_("%s port %u accepts messages up to %s, attachments "
                                  "included."),
                                asked->endpoint->hostname, asked->endpoint->port, limit);
      set_outcome (size, STATUS_PASS, detail,
                   _("Larger messages are refused. Send large attachments as a "
                     "link instead: Apple Mail's Mail Drop does that for you; in "
                     "other programs share the file from iCloud Drive or another "
                     "file service."));
    }
  else
    set_outcome (size, STATUS_WARN, _("The server did not say how large a message may be."),
                 _("If a message with large attachments bounces, send the files as a "
                   "link instead."));
}

static void
finish (GTask *task)
{
  Diagnosis *diagnosis = g_task_get_task_data (task);

  g_autoptr(GError) late = NULL;

  if (diagnosis->finished)
    return;
  diagnosis->finished = TRUE;

  /* Nothing reports after this: lookups and logins see the cancellation,
   * connection checks are dropped. */
  g_cancellable_cancel (diagnosis->cancellable);
  late = g_error_new_literal (MS_ERROR, MS_ERROR_TIMEOUT, _("This check did not finish in time."));
  for (guint i = 0; i < diagnosis->connections->len; i++)
    ms_attempt_abandon (diagnosis->connections->pdata[i], late);
  record_size (diagnosis);
  if (diagnosis->caller_cancelled_id != 0)
    g_cancellable_disconnect (diagnosis->caller_cancellable, diagnosis->caller_cancelled_id);
  diagnosis->caller_cancelled_id = 0;
  for (guint i = 0; i < diagnosis->steps->len; i++)
    {
      Step *step = diagnosis->steps->pdata[i];

      /* A step that never ended was cut off by the deadline. */
      if (step->status == NULL)
        set_outcome (step, STATUS_FAIL,
                     _("This check did not finish in time."),
                     _("The server or the network is very slow. Try again later."));
    }

  g_task_return_pointer (task, g_variant_ref_sink (steps_to_variant (diagnosis)),
                         (GDestroyNotify) g_variant_unref);
  g_object_unref (task);
}

static void
check_done (GTask *task)
{
  Diagnosis *diagnosis = g_task_get_task_data (task);

  g_assert (diagnosis->pending > 0);
  if (--diagnosis->pending == 0)
    finish (task);
}

/* Advice */

static char *
status_page_advice (MsProvider *provider)
{
  if (provider->status_url != NULL)
    return g_strdup_printf (_("If this goes on, check the provider's system status page: %s"),
                            provider->status_url);
  return g_strdup (_("If this goes on, the provider's servers may be down; try again later."));
}

static char *
password_advice (Diagnosis *diagnosis)
{
  MsProvider *provider = diagnosis->provider;
  GString *advice = g_string_new (NULL);

  if (g_strcmp0 (provider->password_kind, "app-specific") == 0 &&
      !ms_password_looks_app_specific (diagnosis->password))
    g_string_append (advice, _("The password does not have the form of an app-specific "
                               "password (xxxx-xxxx-xxxx-xxxx). "));
  if (provider->password_hint != NULL)
    g_string_append (advice, provider->password_hint);
  if (provider->password_url != NULL)
    g_string_append_printf (advice, " %s", provider->password_url);

  return g_string_free (advice, FALSE);
}

/* DNS */

typedef struct {
  GTask *task;
  char *step_id;
  char *host;
} Lookup;

static void
on_resolved (GObject *source,
             GAsyncResult *result,
             gpointer user_data)
{
  Lookup *lookup = user_data;
  Diagnosis *diagnosis = g_task_get_task_data (lookup->task);
  Step *step = find_step (diagnosis, lookup->step_id);
  g_autoptr(GError) error = NULL;
  GList *addresses;

  addresses = g_resolver_lookup_by_name_finish (G_RESOLVER (source), result, &error);
  if (diagnosis->finished)
    ;
  else if (addresses == NULL)
    {
      g_autofree char *detail = g_strdup_printf (_("%s cannot be found: %s"),
                                                 lookup->host, error->message);

      set_outcome (step, STATUS_FAIL, detail,
                   _("Check that this computer is connected to the Internet. If web "
                     "pages open, the network's name server (DNS) may be failing: "
                     "restart the router or try another network."));
    }
  else
    {
      g_autoptr(GString) list = g_string_new (NULL);
      g_autofree char *detail = NULL;

      for (GList *l = addresses; l != NULL; l = l->next)
        {
          g_autofree char *text = g_inet_address_to_string (l->data);

          g_string_append_printf (list, "%s%s", list->len ? ", " : "", text);
        }
      detail = g_strdup_printf (_("%s is %s"), lookup->host, list->str);
      set_outcome (step, STATUS_PASS, detail, NULL);
    }

  g_resolver_free_addresses (addresses);
  check_done (lookup->task);
  g_object_unref (lookup->task);
  g_free (lookup->step_id);
  g_free (lookup->host);
  g_free (lookup);
}

static void
start_lookup (GTask *task,
              const char *step_id,
              const char *host)
{
  Diagnosis *diagnosis = g_task_get_task_data (task);
  g_autoptr(GResolver) resolver = g_resolver_get_default ();
  g_autofree char *title = g_strdup_printf (_("Finding %s"), host);
  Lookup *lookup = g_new0 (Lookup, 1);

  add_step (diagnosis, step_id, title, NULL);
  lookup->task = g_object_ref (task);
  lookup->step_id = g_strdup (step_id);
  lookup->host = g_strdup (host);
  diagnosis->pending++;
  g_resolver_lookup_by_name_async (resolver, host, diagnosis->cancellable, on_resolved, lookup);
}

/* Connection and TLS, one connection-only probe per endpoint */

static void
on_connection_checked (MsAttempt *attempt,
                       gpointer user_data)
{
  Connecting *connecting = user_data;
  GTask *task = connecting->task;
  Diagnosis *diagnosis = g_task_get_task_data (task);
  Step *connect = find_step (diagnosis, connecting->connect_id);
  Step *tls = find_step (diagnosis, connecting->tls_id);
  const MsEndpoint *endpoint = attempt->endpoint;
  g_autofree char *detail = NULL;

  if (!attempt->connected)
    {
      g_autofree char *advice = NULL;

      if (attempt->protocol == MS_PROTOCOL_SMTP && endpoint->port != 465)
        advice = g_strdup (_("Some Internet providers block outgoing mail (SMTP) traffic. "
                             "Ask yours to lift the block, or use port 465."));
      else if (attempt->protocol == MS_PROTOCOL_SMTP)
        advice = g_strdup (_("A firewall or the Internet provider may block this port. "
                             "Try port 587, or another network."));
      else
        advice = status_page_advice (diagnosis->provider);

      set_outcome (connect, STATUS_FAIL, attempt->error->message, advice);
      set_outcome (tls, STATUS_SKIPPED, _("No connection to check."), NULL);
    }
  else
    {
      detail = g_strdup_printf (_("%s port %u answers."), endpoint->hostname, endpoint->port);
      set_outcome (connect, STATUS_PASS, detail, NULL);
      g_clear_pointer (&detail, g_free);

      if (attempt->error == NULL)
        {
          const MsTlsInfo *info = &attempt->result.tls;
          g_autoptr(GDateTime) expires = g_date_time_new_from_unix_utc (info->not_after);
          g_autofree char *date = expires ? g_date_time_format (expires, "%Y-%m-%d") : g_strdup ("?");

          detail = g_strdup_printf (_("%s with %s; certificate for %s, valid until %s."),
                                    info->version, info->cipher, info->subject, date);
          set_outcome (tls, STATUS_PASS, detail, NULL);
          g_clear_pointer (&detail, g_free);
        }
      else if (attempt->result.certificate_dates_wrong)
        {
          set_outcome (tls, STATUS_FAIL, attempt->error->message,
                       _("Check that this computer's date and time are right (and its "
                         "time zone). A wrong clock makes valid certificates look "
                         "expired or not yet valid."));
        }
      else if (g_error_matches (attempt->error, MS_ERROR, MS_ERROR_CERTIFICATE_INVALID) ||
               g_error_matches (attempt->error, MS_ERROR, MS_ERROR_STARTTLS_UNAVAILABLE) ||
               g_error_matches (attempt->error, MS_ERROR, MS_ERROR_PROTOCOL_ERROR) ||
               g_error_matches (attempt->error, MS_ERROR, MS_ERROR_TLS_FAILED))
        {
          set_outcome (tls, STATUS_FAIL, attempt->error->message,
                       _("Something between this computer and the server may be "
                         "intercepting the connection: a Wi-Fi sign-in page, a proxy "
                         "or security software. Try another network."));
        }
      else if (attempt->protocol == MS_PROTOCOL_SMTP && endpoint->port != 465 &&
               !g_error_matches (attempt->error, MS_ERROR, MS_ERROR_SERVICE_UNAVAILABLE))
        {
          /* The server answering "not now" is down, not blocked: that
           * gets the status page below. */
          set_outcome (tls, STATUS_FAIL, attempt->error->message,
                       _("Some Internet providers block outgoing mail (SMTP) traffic. "
                         "Ask yours to lift the block, or use port 465."));
        }
      else
        {
          g_autofree char *advice = status_page_advice (diagnosis->provider);

          set_outcome (tls, STATUS_FAIL, attempt->error->message, advice);
        }
    }

  check_done (task);
}

static void
start_connection_check (GTask *task,
                        MsProtocol protocol,
                        const MsEndpoint *endpoint)
{
  Diagnosis *diagnosis = g_task_get_task_data (task);
  const char *name = ms_protocol_to_string (protocol);
  const char *upper = protocol == MS_PROTOCOL_IMAP ? "IMAP" : "SMTP";
  Connecting *connecting = g_new0 (Connecting, 1);
  g_autofree char *connect_title = NULL;
  g_autofree char *tls_title = NULL;
  MsAttempt *attempt;

  connecting->task = task;
  connecting->connect_id = g_strdup_printf ("connect-%s-%u", name, endpoint->port);
  connecting->tls_id = g_strdup_printf ("tls-%s-%u", name, endpoint->port);

  connect_title = g_strdup_printf (_("Connecting to %s (%s) on port %u"),
                                   endpoint->hostname, upper, endpoint->port);
  tls_title = g_strdup_printf (_("Secure connection and certificate on port %u (%s)"),
                               endpoint->port, upper);
  add_step (diagnosis, connecting->connect_id, connect_title, NULL);
  add_step (diagnosis, connecting->tls_id, tls_title, NULL);

  diagnosis->pending++;
  attempt = ms_attempt_start (protocol, endpoint, NULL, NULL, diagnosis->deadline,
                              NULL, on_connection_checked, connecting);
  g_ptr_array_add (diagnosis->connections, attempt);
  g_ptr_array_add (diagnosis->connectings, connecting);
}

/* Logins */

static MsAttempt *
most_telling (GPtrArray *attempts)
{
  MsAttempt *chosen = NULL;

  /* The first refusal of the password says the most; else the last error. */
  for (guint i = 0; i < attempts->len; i++)
    {
      MsAttempt *attempt = attempts->pdata[i];

      if (attempt->error == NULL ||
          g_error_matches (attempt->error, MS_ERROR, MS_ERROR_CANCELLED))
        continue;
      if (ms_attempt_auth_failed (attempt))
        return attempt;
      chosen = attempt;
    }
  return chosen;
}

static void
record_login (Diagnosis *diagnosis,
              const char *step_id,
              MsAttempt *winner,
              GPtrArray *attempts)
{
  Step *step = find_step (diagnosis, step_id);
  MsAttempt *failure;
  g_autofree char *detail = NULL;
  g_autofree char *advice = NULL;

  if (winner != NULL)
    {
      detail = g_strdup_printf (_("Signed in to %s port %u as %s."),
                                winner->endpoint->hostname, winner->endpoint->port,
                                winner->username);
      set_outcome (step, STATUS_PASS, detail, NULL);
      return;
    }

  failure = attempts ? most_telling (attempts) : NULL;
  if (failure == NULL)
    {
      set_outcome (step, STATUS_FAIL, _("No login could be tried."),
                   _("Fix the connection problems above first."));
      return;
    }

  if (ms_attempt_auth_failed (failure))
    advice = password_advice (diagnosis);
  else if (failure->protocol == MS_PROTOCOL_SMTP &&
           !g_error_matches (failure->error, MS_ERROR, MS_ERROR_SERVICE_UNAVAILABLE))
    advice = g_strdup (_("Some Internet providers block outgoing mail (SMTP) traffic: "
                         "ask yours to lift the block, or use port 465. Send iCloud "
                         "mail only through the iCloud server: other providers' servers "
                         "refuse or mark mail with an iCloud From address."));
  else
    advice = status_page_advice (diagnosis->provider);

  set_outcome (step, STATUS_FAIL, failure->error->message, advice);
}

static void
on_logins_checked (GObject *source,
                   GAsyncResult *result,
                   gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Diagnosis *diagnosis = g_task_get_task_data (task);
  g_autoptr(MsValidation) validation = NULL;
  g_autoptr(GError) error = NULL;

  validation = ms_validate_finish (result, &error);
  if (validation == NULL)
    validation = ms_validate_steal_record (result);

  if (!diagnosis->finished)
    {
      record_login (diagnosis, "login-imap", validation ? validation->imap : NULL,
                    validation ? validation->imap_attempts : NULL);
      record_login (diagnosis, "login-smtp", validation ? validation->smtp : NULL,
                    validation ? validation->smtp_attempts : NULL);
    }

  check_done (task);
}

static gboolean
on_deadline (gpointer user_data)
{
  GTask *task = user_data;
  Diagnosis *diagnosis = g_task_get_task_data (task);

  g_clear_pointer (&diagnosis->deadline_source, g_source_unref);
  finish (task);
  return G_SOURCE_REMOVE;
}

static gboolean
finish_cancelled (gpointer user_data)
{
  finish (G_TASK (user_data));
  return G_SOURCE_REMOVE;
}

/* Runs inside g_cancellable_cancel(), where disconnecting would deadlock:
 * finish from a later main-loop iteration. */
static void
on_caller_cancelled (GCancellable *cancellable,
                     gpointer user_data)
{
  GTask *task = user_data;
  g_autoptr(GSource) idle = g_idle_source_new ();

  g_source_set_callback (idle, finish_cancelled, g_object_ref (task), g_object_unref);
  g_source_attach (idle, g_task_get_context (task));
}

void
ms_diagnose_async (MsProvider *provider,
                   const GError *unknown_reason,
                   const char *address,
                   const char *login,
                   const char *password,
                   guint timeout_ms,
                   GCancellable *cancellable,
                   GAsyncReadyCallback callback,
                   gpointer user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  Diagnosis *diagnosis = g_new0 (Diagnosis, 1);
  g_autoptr(GHashTable) hosts = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *detail = NULL;
  Step *step;

  g_task_set_source_tag (task, ms_diagnose_async);
  g_task_set_check_cancellable (task, FALSE);
  diagnosis->provider = provider ? ms_provider_ref (provider) : NULL;
  diagnosis->address = g_strdup (address);
  diagnosis->password = password ? ms_password_dup (password) : NULL;
  diagnosis->timeout_ms = timeout_ms;
  diagnosis->deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  diagnosis->steps = g_ptr_array_new_with_free_func ((GDestroyNotify) step_free);
  diagnosis->connections = g_ptr_array_new_with_free_func ((GDestroyNotify) ms_attempt_unref);
  diagnosis->connectings = g_ptr_array_new_with_free_func (connecting_free);
  diagnosis->cancellable = g_cancellable_new ();
  g_task_set_task_data (task, diagnosis, (GDestroyNotify) diagnosis_free);

  step = add_step (diagnosis, "provider", _("Mail provider"), NULL);
  if (provider == NULL)
    {
      set_outcome (step, STATUS_FAIL, unknown_reason->message,
                   _("Look up your provider's IMAP and SMTP settings on its help pages."));
      g_task_return_pointer (task, g_variant_ref_sink (steps_to_variant (diagnosis)),
                             (GDestroyNotify) g_variant_unref);
      g_object_unref (task);
      return;
    }

  detail = g_strdup_printf (_("%s settings are known for %s."), provider->display_name, address);
  set_outcome (step, STATUS_PASS, detail, NULL);

  if (cancellable != NULL)
    {
      diagnosis->caller_cancellable = g_object_ref (cancellable);
      diagnosis->caller_cancelled_id = g_cancellable_connect (cancellable,
                                                              G_CALLBACK (on_caller_cancelled),
                                                              task, NULL);
    }

  /* Counts as one pending check until every check has started, so that
   * an early answer cannot finish the diagnosis half-built. */
  diagnosis->pending = 1;

  start_lookup (task, "dns-imap", ((MsEndpoint *) provider->imap->pdata[0])->hostname);
  g_hash_table_add (hosts, ((MsEndpoint *) provider->imap->pdata[0])->hostname);
  for (guint i = 0; i < provider->smtp->len; i++)
    {
      const char *host = ((MsEndpoint *) provider->smtp->pdata[i])->hostname;
      g_autofree char *id = i == 0 ? g_strdup ("dns-smtp") : g_strdup_printf ("dns-smtp-%u", i + 1);

      if (g_hash_table_contains (hosts, host))
        continue;
      g_hash_table_add (hosts, (gpointer) host);
      start_lookup (task, id, host);
    }

  start_connection_check (task, MS_PROTOCOL_IMAP, provider->imap->pdata[0]);
  for (guint i = 0; i < provider->smtp->len; i++)
    start_connection_check (task, MS_PROTOCOL_SMTP, provider->smtp->pdata[i]);

  add_step (diagnosis, "login-imap", _("Signing in to receive mail (IMAP)"), NULL);
  add_step (diagnosis, "login-smtp", _("Signing in to send mail (SMTP)"), NULL);
  if (password != NULL)
    {
      diagnosis->pending++;
      ms_validate_async (provider, address, login, password, timeout_ms, diagnosis->cancellable,
                         NULL, NULL, on_logins_checked, g_object_ref (task));
    }
  else
    {
      const char *why = _("No password to try: the address has no account here and no "
                          "password was given.");

      set_outcome (find_step (diagnosis, "login-imap"), STATUS_SKIPPED, why, NULL);
      set_outcome (find_step (diagnosis, "login-smtp"), STATUS_SKIPPED, why, NULL);
    }

  add_step (diagnosis, "size", _("Message size limit"), NULL);

  diagnosis->deadline_source = g_timeout_source_new (timeout_ms + 500);
  g_source_set_callback (diagnosis->deadline_source, on_deadline, task, NULL);
  g_source_attach (diagnosis->deadline_source, g_task_get_context (task));

  check_done (task);
}

GVariant *
ms_diagnose_finish (GAsyncResult *result,
                    GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
