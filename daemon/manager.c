/* manager.c: the org.mailsetup.MailSetup1.Manager object
 *
 * Every method starts the same way: check what needs no network (the
 * password, the options), then find the provider of the address (for a
 * custom domain that asks DNS), then do its own work.  A Request carries
 * a call through those steps.  Its time (option timeout-ms) runs from the
 * call's arrival: the DNS lookup gets a bounded share, and the work after
 * it what is left, so the caller's 25 s D-Bus timeout holds.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "manager.h"

#include <glib/gi18n.h>
#include <string.h>

#include "accounts/accounts.h"
#include "call-options.h"
#include "diagnosis/diagnose.h"
#include "export/exporter.h"
#include "export/goa-publish.h"
#include "mailsetup-error.h"
#include "password.h"
#include "providers/address-resolver.h"
#include "providers/mx-lookup.h"
#include "secrets/secret-store.h"
#include "settings.h"
#include "validation/report.h"
#include "validation/validator.h"

#define MANAGER_INTERFACE "org.mailsetup.MailSetup1.Manager"

struct _MsManager {
  BusService *service;
  BusObject *object;
  MsProviderRegistry *registry;
  MsAccounts *accounts;
};

typedef struct _Request Request;
typedef void (*RequestStep) (Request *request);

struct _Request {
  MsManager *self;
  BusCall *call;
  MsCallOptions options;
  char *password;               /* ValidateCredentials, AddAccount; wiped */
  MsResolvedAddress *resolved;  /* once the provider is known */
  gboolean reserved;            /* AddAccount holds the address */
  RequestStep next;
  gint64 deadline;              /* monotonic: the call's arrival + timeout-ms */
};

static void
request_free (Request *request)
{
  if (request->reserved)
    ms_accounts_release (request->self->accounts, request->resolved->address);
  ms_call_options_clear (&request->options);
  ms_password_free (request->password);
  g_clear_pointer (&request->resolved, ms_resolved_address_free);
  g_free (request);
}

static void
request_fail (Request *request,
              const GError *error)
{
  bus_call_return_error (request->call, error);
  request_free (request);
}

static void
request_return (Request *request,
                GVariant *result)
{
  bus_call_return (request->call, result);
  request_free (request);
}

/* Checks the password and options; NULL when the call was answered with
 * an error. */
static Request *
request_new (MsManager *self,
             BusCall *call,
             const char *password,
             GVariant *options)
{
  Request *request = g_new0 (Request, 1);
  g_autoptr(GError) error = NULL;

  request->self = self;
  request->call = call;

  if ((password != NULL && !ms_password_check (password, &error)) ||
      !ms_call_options_parse (options, &request->options, &error))
    {
      request_fail (request, error);
      return NULL;
    }

  request->password = password ? ms_password_dup (password) : NULL;
  request->deadline = g_get_monotonic_time () + (gint64) request->options.timeout_ms * 1000;
  return request;
}

/* What is left of the call's time, at least 1 ms (so the step after
 * reports its own time-out rather than starting without a limit). */
static guint
request_remaining_ms (Request *request)
{
  gint64 left = (request->deadline - g_get_monotonic_time ()) / 1000;

  return (guint) CLAMP (left, 1, G_MAXUINT);
}

static void
on_resolved (GObject *source,
             GAsyncResult *result,
             gpointer user_data)
{
  Request *request = user_data;
  g_autoptr(GError) error = NULL;

  request->resolved = ms_address_resolve_finish (result, &error);
  if (request->resolved == NULL)
    request_fail (request, error);
  else
    request->next (request);
}

static void
resolve_then (Request *request,
              const char *raw_address,
              gboolean login_required,
              RequestStep next)
{
  request->next = next;
  /* A custom domain's MX lookup gets a bounded share of the call's time:
   * its own limit, or less when the caller gave less. */
  ms_address_resolve_async (request->self->registry, raw_address, request->options.login,
                            login_required,
                            MIN (MS_MX_LOOKUP_TIMEOUT_MS, request_remaining_ms (request)),
                            bus_call_get_cancellable (request->call), on_resolved, request);
}

/* LookupProvider */

static void
lookup_provider (Request *request)
{
  MsResolvedAddress *resolved = request->resolved;
  g_autoptr(GVariant) settings =
    g_variant_ref_sink (ms_settings_build (resolved->provider, resolved->address,
                                           resolved->login, NULL, NULL));
  g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT (settings);

  /* The user names above are only right once the person names the
   * address they sign in with. */
  if (resolved->custom_domain)
    g_variant_dict_insert (&dict, "login-required", "b", TRUE);

  request_return (request, g_variant_new ("(@a{sv})", g_variant_dict_end (&dict)));
}

static void
handle_lookup_provider (BusCall *call,
                        GVariant *parameters,
                        gpointer user_data)
{
  g_autoptr(GVariant) no_options = g_variant_ref_sink (g_variant_new ("a{sv}", NULL));
  const char *raw_address;
  Request *request;

  g_variant_get (parameters, "(&s)", &raw_address);

  request = request_new (user_data, call, NULL, no_options);
  resolve_then (request, raw_address, FALSE, lookup_provider);
}

/* ValidateCredentials and AddAccount */

static void
on_progress (MsProtocol protocol,
             const char *stage,
             gpointer user_data)
{
  Request *request = user_data;

  bus_object_emit_signal (request->self->object, MANAGER_INTERFACE, "Progress",
                          g_variant_new ("(sss)", request->options.operation_id,
                                         ms_protocol_to_string (protocol), stage));
}

static void
validate_then (Request *request,
               GAsyncReadyCallback callback)
{
  MsResolvedAddress *resolved = request->resolved;

  /* The validation has what the provider lookup left of the call's time. */
  ms_validate_async (resolved->provider, resolved->address, resolved->login,
                     request->password, request_remaining_ms (request),
                     bus_call_get_cancellable (request->call), on_progress, request,
                     callback, request);
}

static void
on_validated (GObject *source,
              GAsyncResult *result,
              gpointer user_data)
{
  Request *request = user_data;
  g_autoptr(MsValidation) validation = NULL;
  g_autoptr(GError) error = NULL;

  validation = ms_validate_finish (result, &error);
  if (validation == NULL)
    request_fail (request, error);
  else
    request_return (request,
                    g_variant_new ("(@a{sv})",
                                   ms_report_from_validation (validation,
                                                              request->options.operation_id)));
}

static void
validate_credentials (Request *request)
{
  validate_then (request, on_validated);
}

/* ValidateCredentials and AddAccount take (address, password, options)
 * and differ only in what follows the provider's resolution. */
static void
start_with_credentials (BusCall *call,
                        GVariant *parameters,
                        MsManager *self,
                        RequestStep next)
{
  const char *raw_address, *password;
  g_autoptr(GVariant) options = NULL;
  Request *request;

  g_variant_get (parameters, "(&s&s@a{sv})", &raw_address, &password, &options);

  request = request_new (self, call, password, options);
  if (request != NULL)
    resolve_then (request, raw_address, TRUE, next);
}

static void
handle_validate_credentials (BusCall *call,
                             GVariant *parameters,
                             gpointer user_data)
{
  start_with_credentials (call, parameters, user_data, validate_credentials);
}

static void
on_account_added (GObject *source,
                  GAsyncResult *result,
                  gpointer user_data)
{
  Request *request = user_data;
  g_autoptr(GError) error = NULL;
  const char *path;

  path = ms_accounts_add_finish (request->self->accounts, result, &error);
  if (path == NULL)
    request_fail (request, error);
  else
    request_return (request, g_variant_new ("(o)", path));
}

static void
on_validated_for_add (GObject *source,
                      GAsyncResult *result,
                      gpointer user_data)
{
  Request *request = user_data;
  g_autoptr(MsValidation) validation = NULL;
  g_autoptr(GError) error = NULL;

  validation = ms_validate_finish (result, &error);
  if (validation == NULL)
    {
      request_fail (request, error);
      return;
    }

  ms_accounts_add_async (request->self->accounts, validation, request->password,
                         request->options.display_name,
                         bus_call_get_cancellable (request->call), on_account_added, request);
}

static void
add_account (Request *request)
{
  const char *address = request->resolved->address;

  /* Also refuses a second AddAccount for an address being added. */
  if (!ms_accounts_reserve (request->self->accounts, address))
    {
      g_autoptr(GError) error = g_error_new (MS_ERROR, MS_ERROR_ACCOUNT_EXISTS,
                                             _("There is already an account for %s."),
                                             address);
      request_fail (request, error);
      return;
    }
  request->reserved = TRUE;

  validate_then (request, on_validated_for_add);
}

static void
handle_add_account (BusCall *call,
                    GVariant *parameters,
                    gpointer user_data)
{
  start_with_credentials (call, parameters, user_data, add_account);
}

/* Diagnose */

static void
on_diagnosed (GObject *source,
              GAsyncResult *result,
              gpointer user_data)
{
  Request *request = user_data;
  g_autoptr(GVariant) steps = NULL;
  g_autoptr(GError) error = NULL;

  steps = ms_diagnose_finish (result, &error);
  if (steps == NULL)
    request_fail (request, error);
  else
    request_return (request, g_variant_new ("(@aa{sv})", steps));
}

static void
diagnose_with (Request *request,
               MsProvider *provider,
               const GError *unknown,
               const char *address,
               const char *password)
{
  const char *login = NULL;

  if (request->resolved != NULL)
    {
      const MsAccountData *account = ms_accounts_lookup (request->self->accounts,
                                                         request->resolved->address);

      login = request->resolved->login;
      if (login == NULL && account != NULL)
        login = ms_account_data_get_login (account);
    }
  ms_diagnose_async (provider, unknown, address, login, password, request_remaining_ms (request),
                     bus_call_get_cancellable (request->call), on_diagnosed, request);
}

static void
on_stored_password_for_diagnosis (GObject *source,
                                  GAsyncResult *result,
                                  gpointer user_data)
{
  Request *request = user_data;
  g_autoptr(GError) error = NULL;
  char *password = ms_secret_lookup_finish (result, &error);

  /* Without the keyring the checklist still tells what it can. */
  if (error != NULL)
    g_debug ("Diagnosing without the stored password: %s", error->message);

  diagnose_with (request, request->resolved->provider, NULL, request->resolved->address,
                 password);
  ms_password_free (password);
}

static void
on_resolved_for_diagnosis (GObject *source,
                           GAsyncResult *result,
                           gpointer user_data)
{
  Request *request = user_data;
  g_autoptr(GError) error = NULL;
  const MsAccountData *account;

  request->resolved = ms_address_resolve_finish (result, &error);

  /* An unknown provider, or one DNS did not name in time, is the
   * checklist's first finding, not an error. */
  if (g_error_matches (error, MS_ERROR, MS_ERROR_UNKNOWN_PROVIDER) ||
      g_error_matches (error, MS_ERROR, MS_ERROR_TIMEOUT))
    {
      diagnose_with (request, NULL, error, NULL, NULL);
      return;
    }
  if (request->resolved == NULL)
    {
      request_fail (request, error);
      return;
    }

  account = ms_accounts_lookup (request->self->accounts, request->resolved->address);
  if (request->options.password == NULL && account != NULL)
    ms_secret_lookup_async (account->id, account->address,
                            bus_call_get_cancellable (request->call),
                            on_stored_password_for_diagnosis, request);
  else
    diagnose_with (request, request->resolved->provider, NULL, request->resolved->address,
                   request->options.password);
}

static void
handle_diagnose (BusCall *call,
                 GVariant *parameters,
                 gpointer user_data)
{
  MsManager *self = user_data;
  const char *raw_address;
  g_autoptr(GVariant) options = NULL;
  Request *request;

  g_variant_get (parameters, "(&s@a{sv})", &raw_address, &options);

  request = request_new (self, call, NULL, options);
  if (request != NULL)
    ms_address_resolve_async (self->registry, raw_address, request->options.login, FALSE,
                              MIN (MS_MX_LOOKUP_TIMEOUT_MS, request_remaining_ms (request)),
                              bus_call_get_cancellable (call), on_resolved_for_diagnosis,
                              request);
}

/* Properties */

static GVariant *
get_version (gpointer user_data)
{
  return g_variant_new_string (PACKAGE_VERSION);
}

static GVariant *
get_export_formats (gpointer user_data)
{
  g_auto(GVariantBuilder) formats = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_STRING_ARRAY);

  for (const char * const *f = ms_export_text_formats (); *f; f++)
    g_variant_builder_add (&formats, "s", *f);
  g_variant_builder_add (&formats, "s", MS_EXPORT_FORMAT_GOA);

  return g_variant_builder_end (&formats);
}

static const BusMethod manager_methods[] = {
  { "LookupProvider", handle_lookup_provider },
  { "ValidateCredentials", handle_validate_credentials },
  { "AddAccount", handle_add_account },
  { "Diagnose", handle_diagnose },
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
  self->object = bus_service_export (service, MS_MANAGER_PATH, interfaces,
                                     BUS_EXPORT_OBJECT_MANAGER, self);

  return self;
}

void
ms_manager_free (MsManager *self)
{
  bus_object_unexport (self->object);
  g_free (self);
}
