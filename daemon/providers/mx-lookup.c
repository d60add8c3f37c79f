/* mx-lookup.c: recognising a provider behind a custom mail domain
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "mx-lookup.h"

static void
on_records (GObject *source,
            GAsyncResult *result,
            gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  MsProviderRegistry *registry = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  GList *records;

  records = g_resolver_lookup_records_finish (G_RESOLVER (source), result, &error);
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
      provider = ms_provider_registry_lookup_mx (registry, host);
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
ms_mx_lookup_async (MsProviderRegistry *registry,
                    const char *domain,
                    GCancellable *cancellable,
                    GAsyncReadyCallback callback,
                    gpointer user_data)
{
  g_autoptr(GResolver) resolver = g_resolver_get_default ();
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, ms_mx_lookup_async);
  g_task_set_task_data (task, registry, NULL);

  /* For machines (and test sessions) that must not send DNS queries. */
  if (g_getenv ("MAILSETUP_OFFLINE") != NULL)
    {
      g_task_return_pointer (task, NULL, NULL);
      g_object_unref (task);
      return;
    }
  g_resolver_lookup_records_async (resolver, domain, G_RESOLVER_RECORD_MX, cancellable,
                                   on_records, task);
}

MsProvider *
ms_mx_lookup_finish (GAsyncResult *result,
                     GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
