/* mx-lookup.c: recognising a provider behind a custom mail domain
 *
 * The query runs on a cancellable of our own, so that a time-out can stop
 * it as well as the caller; the result is given once, by whichever comes
 * first: the answer, the time-out or the caller's cancellation.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "mx-lookup.h"

#include <glib/gi18n.h>

#include "mailsetup-error.h"

typedef struct {
  MsProviderRegistry *registry;
  char *domain;
  guint timeout_ms;
  GCancellable *query;      /* cancels the DNS query */
  GSource *timeout;
  GSource *cancelled;       /* watches the caller's cancellable */
  gboolean returned;
} Lookup;

static void
clear_source (GSource **source)
{
  if (*source == NULL)
    return;
  g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}

static void
lookup_free (gpointer data)
{
  Lookup *lookup = data;

  clear_source (&lookup->timeout);
  clear_source (&lookup->cancelled);
  g_clear_object (&lookup->query);
  g_free (lookup->domain);
  g_free (lookup);
}

/* The first outcome wins; the query, if still running, is stopped, and
 * its late answer finds the task returned. */
static gboolean
claim (GTask *task)
{
  Lookup *lookup = g_task_get_task_data (task);

  if (lookup->returned)
    return FALSE;

  lookup->returned = TRUE;
  clear_source (&lookup->timeout);
  clear_source (&lookup->cancelled);
  g_cancellable_cancel (lookup->query);
  return TRUE;
}

GError *
ms_mx_lookup_timeout_error (const char *domain,
                            guint timeout_ms)
{
  guint seconds = MAX ((timeout_ms + 999) / 1000, 1);

  return g_error_new (MS_ERROR, MS_ERROR_TIMEOUT,
                      ngettext ("Looking up the mail servers of %s (its DNS MX records) "
                                "took longer than %u second. Check this computer's "
                                "internet connection and try again.",
                                "Looking up the mail servers of %s (its DNS MX records) "
                                "took longer than %u seconds. Check this computer's "
                                "internet connection and try again.",
                                seconds),
                      domain, seconds);
}

static gboolean
on_timeout (gpointer user_data)
{
  GTask *task = user_data;
  Lookup *lookup = g_task_get_task_data (task);

  /* claim() destroys this source: keep the task alive until we are done. */
  g_object_ref (task);
  if (claim (task))
    {
      g_debug ("MX lookup of %s took longer than %u ms; giving up", lookup->domain,
               lookup->timeout_ms);
      g_task_return_error (task, ms_mx_lookup_timeout_error (lookup->domain,
                                                             lookup->timeout_ms));
    }
  g_object_unref (task);
  return G_SOURCE_REMOVE;
}

static gboolean
on_cancelled (GCancellable *cancellable,
              gpointer user_data)
{
  GTask *task = user_data;

  g_object_ref (task);
  if (claim (task))
    g_task_return_error_if_cancelled (task);
  g_object_unref (task);
  return G_SOURCE_REMOVE;
}

static void
on_records (GObject *source,
            GAsyncResult *result,
            gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Lookup *lookup = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  GList *records;

  records = g_resolver_lookup_records_finish (G_RESOLVER (source), result, &error);

  /* Too late: the time-out or the caller already had the last word. */
  if (!claim (task))
    {
      g_list_free_full (records, (GDestroyNotify) g_variant_unref);
      return;
    }

  if (records == NULL)
    {
      if (g_error_matches (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND))
        g_task_return_pointer (task, NULL, NULL);
      else
        g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  for (GList *l = records; l != NULL; l = l->next)
    {
      const char *host;
      guint16 preference;
      MsProvider *provider;

      g_variant_get (l->data, "(q&s)", &preference, &host);
      provider = ms_provider_registry_lookup_mx (lookup->registry, host);
      if (provider != NULL)
        {
          g_debug ("MX host %s belongs to %s", host, provider->id);
          g_task_return_pointer (task, ms_provider_ref (provider),
                                 (GDestroyNotify) ms_provider_unref);
          g_list_free_full (records, (GDestroyNotify) g_variant_unref);
          return;
        }
    }

  g_list_free_full (records, (GDestroyNotify) g_variant_unref);
  g_task_return_pointer (task, NULL, NULL);
}

void
ms_mx_lookup_with_timeout_async (MsProviderRegistry *registry,
                                 const char *domain,
                                 guint timeout_ms,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data)
{
  g_autoptr(GResolver) resolver = g_resolver_get_default ();
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  Lookup *lookup = g_new0 (Lookup, 1);

  g_task_set_source_tag (task, ms_mx_lookup_async);
  g_task_set_task_data (task, lookup, lookup_free);
  lookup->registry = registry;
  lookup->domain = g_strdup (domain);
  lookup->timeout_ms = timeout_ms;

  /* For machines (and test sessions) that must not send DNS queries. */
  if (g_getenv ("MAILSETUP_OFFLINE") != NULL)
    {
      g_task_return_pointer (task, NULL, NULL);
      return;
    }

  lookup->query = g_cancellable_new ();

  /* The sources hold the task; claim() destroys them when it returns. */
  lookup->timeout = g_timeout_source_new (timeout_ms);
  g_source_set_name (lookup->timeout, "[mailsetup] MX lookup time-out");
  g_task_attach_source (task, lookup->timeout, on_timeout);

  /* A cancellable source rather than a handler: the callback then runs
   * from the main loop, never inside g_cancellable_cancel(). */
  if (cancellable != NULL)
    {
      lookup->cancelled = g_cancellable_source_new (cancellable);
      g_task_attach_source (task, lookup->cancelled, G_SOURCE_FUNC (on_cancelled));
    }

  g_resolver_lookup_records_async (resolver, domain, G_RESOLVER_RECORD_MX, lookup->query,
                                   on_records, g_object_ref (task));
}

void
ms_mx_lookup_async (MsProviderRegistry *registry,
                    const char *domain,
                    GCancellable *cancellable,
                    GAsyncReadyCallback callback,
                    gpointer user_data)
{
  ms_mx_lookup_with_timeout_async (registry, domain, MS_MX_LOOKUP_TIMEOUT_MS, cancellable,
                                   callback, user_data);
}

MsProvider *
ms_mx_lookup_finish (GAsyncResult *result,
                     GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
