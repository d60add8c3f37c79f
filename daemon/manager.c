/* manager.c: the org.mailsetup.MailSetup1.Manager object
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "manager.h"

#include <glib/gi18n.h>

#include "accounts/accounts.h"
#include "address.h"
#include "mailsetup-error.h"
#include "password.h"
#include "settings.h"
#include "validation/report.h"
#include "validation/validator.h"

#define MAX_TIMEOUT_MS 120000

#define MANAGER_INTERFACE "org.mailsetup.MailSetup1.Manager"

struct _MsManager {
  BusService *service;
  BusObject *object;
  MsProviderRegistry *registry;
  MsAccounts *accounts;
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
                                        ms_settings_build (provider, address, NULL, NULL)));
}

typedef struct {
  guint timeout_ms;
  char *operation_id;
  char *display_name;
} Options;

static void
options_clear (Options *options)
{
  g_clear_pointer (&options->operation_id, g_free);
  g_clear_pointer (&options->display_name, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Options, options_clear)

/* Reads the options of the validating methods.  Unknown keys are ignored
 * so that newer clients work with this daemon; known keys must have the
 * right type. */
static gboolean
parse_options (GVariant *dict,
               Options *options,
               GError **error)
{
  g_autoptr(GVariant) timeout = g_variant_lookup_value (dict, "timeout-ms", NULL);
  g_autoptr(GVariant) operation = g_variant_lookup_value (dict, "operation-id", NULL);
  g_autoptr(GVariant) display_name = g_variant_lookup_value (dict, "display-name", NULL);

  options->timeout_ms = MS_VALIDATION_DEFAULT_TIMEOUT_MS;

  if (timeout != NULL)
    {
      gint64 value;

      if (g_variant_is_of_type (timeout, G_VARIANT_TYPE_UINT32))
        value = g_variant_get_uint32 (timeout);
      else if (g_variant_is_of_type (timeout, G_VARIANT_TYPE_INT32))
        value = g_variant_get_int32 (timeout);
      else if (g_variant_is_of_type (timeout, G_VARIANT_TYPE_UINT64))
        value = (gint64) MIN (g_variant_get_uint64 (timeout), (guint64) G_MAXINT64);
      else if (g_variant_is_of_type (timeout, G_VARIANT_TYPE_INT64))
        value = g_variant_get_int64 (timeout);
      else
        {
          g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                       "Option timeout-ms must be a number (u), not %s",
                       g_variant_get_type_string (timeout));
          return FALSE;
        }

      if (value < 1 || value > MAX_TIMEOUT_MS)
        {
          g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                       "Option timeout-ms must be between 1 and %d", MAX_TIMEOUT_MS);
          return FALSE;
        }
      options->timeout_ms = (guint) value;
    }

  if (operation != NULL)
    {
      if (!g_variant_is_of_type (operation, G_VARIANT_TYPE_STRING))
        {
          g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                       "Option operation-id must be a string (s), not %s",
                       g_variant_get_type_string (operation));
          return FALSE;
        }
      options->operation_id = g_variant_dup_string (operation, NULL);
    }
  else
    {
      options->operation_id = g_uuid_string_random ();
    }

  if (display_name != NULL)
    {
      if (!g_variant_is_of_type (display_name, G_VARIANT_TYPE_STRING))
        {
          g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                       "Option display-name must be a string (s), not %s",
                       g_variant_get_type_string (display_name));
          return FALSE;
        }
      options->display_name = g_variant_dup_string (display_name, NULL);
    }

  return TRUE;
}

/* A ValidateCredentials or AddAccount call in progress. */
typedef struct {
  MsManager *self;
  BusCall *call;
  char *operation_id;
  /* AddAccount only: */
  char *address;
  char *password;
  char *display_name;
} Validating;

static void
validating_free (Validating *validating)
{
  g_free (validating->operation_id);
  g_free (validating->address);
  ms_password_free (validating->password);
  g_free (validating->display_name);
  g_free (validating);
}

static void
on_progress (MsProtocol protocol,
             const char *stage,
             gpointer user_data)
{
  Validating *validating = user_data;

  bus_object_emit_signal (validating->self->object, MANAGER_INTERFACE, "Progress",
                          g_variant_new ("(sss)", validating->operation_id,
                                         ms_protocol_to_string (protocol), stage));
}

static void
on_validated (GObject *source,
              GAsyncResult *result,
              gpointer user_data)
{
  Validating *validating = user_data;
  g_autoptr(MsValidation) validation = NULL;
  g_autoptr(GError) error = NULL;

  validation = ms_validate_finish (result, &error);
  if (validation == NULL)
    bus_call_return_error (validating->call, error);
  else
    bus_call_return (validating->call,
                     g_variant_new ("(@a{sv})",
                                    ms_report_from_validation (validation,
                                                               validating->operation_id)));

  validating_free (validating);
}

static void
handle_validate_credentials (BusCall *call,
                             GVariant *parameters,
                             gpointer user_data)
{
  MsManager *self = user_data;
  const char *raw_address, *password;
  g_autoptr(GVariant) options_dict = NULL;
  g_auto(Options) options = { 0 };
  g_autofree char *address = NULL;
  g_autoptr(GError) error = NULL;
  MsProvider *provider;
  Validating *validating;

  g_variant_get (parameters, "(&s&s@a{sv})", &raw_address, &password, &options_dict);

  /* Every check that needs no network comes first. */
  if (!ms_password_check (password, &error) ||
      !parse_options (options_dict, &options, &error) ||
      (provider = find_provider (self, raw_address, &address, &error)) == NULL)
    {
      bus_call_return_error (call, error);
      return;
    }

  validating = g_new0 (Validating, 1);
  validating->self = self;
  validating->call = call;
  validating->operation_id = g_steal_pointer (&options.operation_id);

  ms_validate_async (provider, address, password, options.timeout_ms,
                     bus_call_get_cancellable (call), on_progress, validating,
                     on_validated, validating);
}

static void
on_account_added (GObject *source,
                  GAsyncResult *result,
                  gpointer user_data)
{
  Validating *validating = user_data;
  MsManager *self = validating->self;
  g_autoptr(GError) error = NULL;
  const char *path;

  path = ms_accounts_add_finish (self->accounts, result, &error);
  ms_accounts_release (self->accounts, validating->address);

  if (path == NULL)
    bus_call_return_error (validating->call, error);
  else
    bus_call_return (validating->call, g_variant_new ("(o)", path));

  validating_free (validating);
}

static void
on_validated_for_add (GObject *source,
                      GAsyncResult *result,
                      gpointer user_data)
{
  Validating *validating = user_data;
  MsManager *self = validating->self;
  g_autoptr(MsValidation) validation = NULL;
  g_autoptr(GError) error = NULL;

  validation = ms_validate_finish (result, &error);
  if (validation == NULL)
    {
      ms_accounts_release (self->accounts, validating->address);
      bus_call_return_error (validating->call, error);
      validating_free (validating);
      return;
    }

  ms_accounts_add_async (self->accounts, validation, validating->password,
                         validating->display_name, bus_call_get_cancellable (validating->call),
                         on_account_added, validating);
}

static void
handle_add_account (BusCall *call,
                    GVariant *parameters,
                    gpointer user_data)
{
  MsManager *self = user_data;
  const char *raw_address, *password;
  g_autoptr(GVariant) options_dict = NULL;
  g_auto(Options) options = { 0 };
  g_autofree char *address = NULL;
  g_autoptr(GError) error = NULL;
  MsProvider *provider;
  Validating *validating;

  g_variant_get (parameters, "(&s&s@a{sv})", &raw_address, &password, &options_dict);

  if (!ms_password_check (password, &error) ||
      !parse_options (options_dict, &options, &error) ||
      (provider = find_provider (self, raw_address, &address, &error)) == NULL)
    {
      bus_call_return_error (call, error);
      return;
    }

  /* Also refuses a second AddAccount for an address being added. */
  if (!ms_accounts_reserve (self->accounts, address))
    {
      bus_call_return_new_error (call, MS_ERROR, MS_ERROR_ACCOUNT_EXISTS,
                                 _("There is already an account for %s."), address);
      return;
    }

  validating = g_new0 (Validating, 1);
  validating->self = self;
  validating->call = call;
  validating->operation_id = g_steal_pointer (&options.operation_id);
  validating->address = g_strdup (address);
  validating->password = ms_password_dup (password);
  validating->display_name = g_steal_pointer (&options.display_name);

  ms_validate_async (provider, address, password, options.timeout_ms,
                     bus_call_get_cancellable (call), on_progress, validating,
                     on_validated_for_add, validating);
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
  { "ValidateCredentials", handle_validate_credentials },
  { "AddAccount", handle_add_account },
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
                MsProviderRegistry *registry,
                MsAccounts *accounts)
{
  static const BusInterfaceVTable * const interfaces[] = { &manager_interface, NULL };
  MsManager *self = g_new0 (MsManager, 1);

  self->service = service;
  self->registry = registry;
  self->accounts = accounts;
  self->object = bus_service_export (service, MS_MANAGER_PATH, interfaces, TRUE, self);

  return self;
}

void
ms_manager_free (MsManager *self)
{
  bus_object_unexport (self->object);
  g_free (self);
}
