/* address-resolver.c: from the address a person typed to the provider
 * that serves it, custom domains included
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "address-resolver.h"

#include <glib/gi18n.h>

#include "address.h"
#include "mailsetup-error.h"
#include "mx-lookup.h"

typedef struct {
  MsProviderRegistry *registry;
  MsResolvedAddress *resolved;
  char *raw_login;
  gboolean login_required;
} Resolve;

static void
resolve_free (Resolve *resolve)
{
  g_clear_pointer (&resolve->resolved, ms_resolved_address_free);
  g_free (resolve->raw_login);
  g_free (resolve);
}

void
ms_resolved_address_free (MsResolvedAddress *resolved)
{
  g_free (resolved->address);
  g_free (resolved->login);
  g_clear_pointer (&resolved->provider, ms_provider_unref);
  g_free (resolved);
}

static GError *
unknown_provider (const char *domain,
                  const char *why)
{
  g_autoptr(GString) message = g_string_new (NULL);

  g_string_append_printf (message,
                          _("mailsetup has no settings for “%s” addresses. It knows "
                            "iCloud Mail (icloud.com, me.com and mac.com) and iCloud+ "
                            "custom domains; settings for other providers can be added "
                            "as files in ~/.config/mailsetup/providers."),
                          domain);
  if (why != NULL)
    g_string_append_printf (message, " (%s)", why);

  return g_error_new_literal (MS_ERROR, MS_ERROR_UNKNOWN_PROVIDER, message->str);
}

/* The login, once the provider is known. */
static void
finish (GTask *task)
{
  Resolve *resolve = g_task_get_task_data (task);
  MsResolvedAddress *resolved = resolve->resolved;
  g_autoptr(GError) error = NULL;

  if (resolve->raw_login != NULL)
    {
      g_autofree char *login = ms_address_normalize (resolve->raw_login, &error);
      MsProvider *login_provider;

      if (login == NULL)
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
      login_provider = ms_provider_registry_lookup (resolve->registry,
                                                    ms_address_get_domain (login));
      /* By id: a user's file may define one of a provider's domains anew
       * (icloud.com) while the shipped file keeps the others. */
      if (login_provider == NULL ||
          g_strcmp0 (login_provider->id, resolved->provider->id) != 0)
        {
          g_task_return_new_error (task, MS_ERROR, MS_ERROR_INVALID_ADDRESS,
                                   _("The login %s is not an address at %s. Sign in with "
                                     "your own %s address."),
                                   login, resolved->provider->display_name,
                                   resolved->provider->display_name);
          return;
        }
      /* The servers are the ones of the address signed in with. */
      if (login_provider != resolved->provider)
        {
          ms_provider_unref (resolved->provider);
          resolved->provider = ms_provider_ref (login_provider);
        }
      resolved->login = g_steal_pointer (&login);
    }
  else if (resolved->custom_domain && resolve->login_required)
    {
      g_task_return_new_error (task, MS_ERROR, MS_ERROR_INVALID_ADDRESS,
                               _("%s is a custom domain of %s. Sign in with your own %s "
                                 "address (for iCloud+, your primary iCloud Mail address): "
                                 "give it as the login; %s stays the From address."),
                               resolved->address, resolved->provider->display_name,
                               resolved->provider->display_name, resolved->address);
      return;
    }

  g_task_return_pointer (task, g_steal_pointer (&resolve->resolved),
                         (GDestroyNotify) ms_resolved_address_free);
}

static void
on_mx_looked_up (GObject *source,
                 GAsyncResult *result,
                 gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Resolve *resolve = g_task_get_task_data (task);
  const char *domain = ms_address_get_domain (resolve->resolved->address);
  g_autoptr(GError) error = NULL;
  MsProvider *provider;

  provider = ms_mx_lookup_finish (result, &error);
  /* Not knowing in time, or being told to stop, is not "unknown". */
  if (g_error_matches (error, MS_ERROR, MS_ERROR_TIMEOUT) ||
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (provider == NULL)
    {
      g_task_return_error (task, unknown_provider (domain, error ? error->message : NULL));
      return;
    }

  resolve->resolved->provider = provider;
  resolve->resolved->custom_domain = TRUE;
  finish (task);
}

void
ms_address_resolve_async (MsProviderRegistry *registry,
                          const char *raw_address,
                          const char *raw_login,
                          gboolean login_required,
                          guint timeout_ms,
                          GCancellable *cancellable,
                          GAsyncReadyCallback callback,
                          gpointer user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  Resolve *resolve = g_new0 (Resolve, 1);
  GError *error = NULL;
  char *address;
  MsProvider *provider;

  g_task_set_source_tag (task, ms_address_resolve_async);
  g_task_set_task_data (task, resolve, (GDestroyNotify) resolve_free);
  resolve->registry = registry;
  resolve->raw_login = g_strdup (raw_login);
  resolve->login_required = login_required;

  address = ms_address_normalize (raw_address, &error);
  if (address == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  resolve->resolved = g_new0 (MsResolvedAddress, 1);
  resolve->resolved->address = address;

  provider = ms_provider_registry_lookup (registry, ms_address_get_domain (address));
  if (provider != NULL)
    {
      resolve->resolved->provider = ms_provider_ref (provider);
      finish (task);
      return;
    }

  /* Only a domain no provider file names costs a DNS query. */
  ms_mx_lookup_with_timeout_async (registry, ms_address_get_domain (address), timeout_ms,
                                   cancellable, on_mx_looked_up, g_steal_pointer (&task));
}

MsResolvedAddress *
ms_address_resolve_finish (GAsyncResult *result,
                           GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
