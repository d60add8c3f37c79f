/* manager.c: the org.mailsetup.MailSetup1.Manager object
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "manager.h"

#include <glib/gi18n.h>

#include "address.h"
#include "mailsetup-error.h"
#include "settings.h"

#define MANAGER_INTERFACE "org.mailsetup.MailSetup1.Manager"

struct _MsManager {
  BusService *service;
  BusObject *object;
  MsProviderRegistry *registry;
};

/* The provider for @raw_address; on success @address_out holds the
 * normalised address. */
static MsProvider *
find_provider (MsManager *self,
               const char *raw_address,
               char **address_out,
               GError **error)
{
  g_autofree char *address = ms_address_normalize (raw_address, error);
  const char *domain;
  MsProvider *provider;

  if (address == NULL)
    return NULL;

  domain = ms_address_get_domain (address);
  provider = ms_provider_registry_lookup (self->registry, domain);
  if (provider == NULL)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_UNKNOWN_PROVIDER,
                   _("mailsetup has no settings for “%s” addresses. It knows "
                     "iCloud Mail (icloud.com, me.com and mac.com); settings "
                     "for other providers can be added as files in "
                     "~/.config/mailsetup/providers."),
                   domain);
      return NULL;
    }

  *address_out = g_steal_pointer (&address);
  return provider;
}

static void
handle_lookup_provider (BusCall *call,
                        GVariant *parameters,
                        gpointer user_data)
{
  MsManager *self = user_data;
  const char *raw_address;
  g_autofree char *address = NULL;
  g_autoptr(GError) error = NULL;
  MsProvider *provider;

  g_variant_get (parameters, "(&s)", &raw_address);

  provider = find_provider (self, raw_address, &address, &error);
  if (provider == NULL)
    {
      bus_call_return_error (call, error);
      return;
    }

  bus_call_return (call, g_variant_new ("(@a{sv})",
                                        ms_settings_from_provider (provider, address)));
}

static GVariant *
get_version (gpointer user_data)
{
  return g_variant_new_string (PACKAGE_VERSION);
}

static GVariant *
get_export_formats (gpointer user_data)
{
  /* No exporter exists yet. */
  return g_variant_new_strv (NULL, 0);
}

static const BusMethod manager_methods[] = {
  { "LookupProvider", handle_lookup_provider },
  { NULL }
};

static const BusProperty manager_properties[] = {
  { "Version", get_version, NULL },
  { "ExportFormats", get_export_formats, NULL },
  { NULL }
};

static const BusInterfaceVTable manager_interface = {
  .name = MANAGER_INTERFACE,
  .methods = manager_methods,
  .properties = manager_properties,
};

MsManager *
ms_manager_new (BusService *service,
                MsProviderRegistry *registry)
{
  static const BusInterfaceVTable * const interfaces[] = { &manager_interface, NULL };
  MsManager *self = g_new0 (MsManager, 1);

  self->service = service;
  self->registry = registry;
  self->object = bus_service_export (service, MS_MANAGER_PATH, interfaces, TRUE, self);

  return self;
}

void
ms_manager_free (MsManager *self)
{
  bus_object_unexport (self->object);
  g_free (self);
}
