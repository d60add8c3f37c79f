/* account.c: one account on the bus (org.mailsetup.MailSetup1.Account)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "account.h"

#include <glib/gi18n.h>
#include <string.h>

#include "address.h"
#include "export/exporter.h"
#include "export/goa-publish.h"
#include "mailsetup-error.h"
#include "password.h"
#include "secrets/secret-store.h"
#include "settings.h"

MsAccount *
ms_account_new (MsAccounts *accounts,
                MsAccountData *data)
{
  MsAccount *account = g_new0 (MsAccount, 1);

  g_atomic_ref_count_init (&account->ref_count);
  account->accounts = accounts;
  account->data = data;
  account->status = g_strdup (MS_STATUS_UNCHECKED);
  account->status_message = g_strdup ("");
  account->check_calls = g_ptr_array_new ();

  return account;
}

MsAccount *
ms_account_ref (MsAccount *account)
{
  g_atomic_ref_count_inc (&account->ref_count);
  return account;
}

void
ms_account_unref (MsAccount *account)
{
  if (!g_atomic_ref_count_dec (&account->ref_count))
    return;

  g_assert (account->object == NULL);
  g_ptr_array_unref (account->check_calls);
  ms_account_data_free (account->data);
  g_free (account->status);
  g_free (account->status_message);
  g_free (account);
}

char *
ms_account_secret_label (MsProvider *provider,
                         const char *address)
{
  /* Translators: the name of the password in Seahorse / Passwords and Keys,
   * e.g. "iCloud Mail password for jane@icloud.com". */
  return g_strdup_printf (_("%s password for %s"),
                          provider && provider->display_name ? provider->display_name : _("Mail"),
                          address);
}

void
ms_account_set_status (MsAccount *account,
                       const char *status,
                       const char *message)
{
  if (g_strcmp0 (account->status, status) != 0)
    {
      g_free (account->status);
      account->status = g_strdup (status);
      if (account->object != NULL)
        bus_object_notify (account->object, MS_ACCOUNT_INTERFACE, "Status");
    }

  if (g_strcmp0 (account->status_message, message) != 0)
    {
      g_free (account->status_message);
      account->status_message = g_strdup (message ? message : "");
      if (account->object != NULL)
        bus_object_notify (account->object, MS_ACCOUNT_INTERFACE, "StatusMessage");
    }
}

static MsProvider *
known_provider (MsAccount *account)
{
  if (account->accounts == NULL)
    return NULL;

  /* By the provider's id, which is one of its domains: a custom domain
   * has no entry of its own. */
  return ms_provider_registry_lookup (ms_accounts_get_registry (account->accounts),
                                      account->data->provider);
}

/* A provider that describes exactly this account: the endpoints and user
 * name that validation found, the provider's other SMTP endpoints as
 * fallbacks, and its password hints.  Check and SetPassword validate
 * against it. */
static MsProvider *
account_provider (MsAccount *account)
{
  const MsAccountData *data = account->data;
  MsProvider *known = known_provider (account);
  MsProvider *provider = ms_provider_new ();

  provider->id = g_strdup (data->provider);
  provider->display_name = g_strdup (known ? known->display_name : data->provider);
  g_ptr_array_add (provider->domains, g_strdup (ms_address_get_domain (data->address)));
  g_ptr_array_add (provider->imap, ms_endpoint_new (data->imap->hostname, data->imap->port,
                                                    data->imap->security,
                                                    data->imap->username_template));
  g_ptr_array_add (provider->imap_username_candidates,
                   g_strdup (data->imap->username_template));
  g_ptr_array_add (provider->smtp, ms_endpoint_new (data->smtp->hostname, data->smtp->port,
                                                    data->smtp->security,
                                                    data->smtp->username_template));

  if (known != NULL)
    {
      for (guint i = 0; i < known->smtp->len; i++)
        {
          const MsEndpoint *other = known->smtp->pdata[i];

          if (other->port != data->smtp->port ||
              g_ascii_strcasecmp (other->hostname, data->smtp->hostname) != 0)
            g_ptr_array_add (provider->smtp,
                             ms_endpoint_new (other->hostname, other->port, other->security,
                                              data->smtp->username_template));
        }
      provider->password_kind = g_strdup (known->password_kind);
      provider->password_hint = g_strdup (known->password_hint);
      provider->password_url = g_strdup (known->password_url);
      provider->documentation_url = g_strdup (known->documentation_url);
    }

  return provider;
}

/* Properties */

#define STRING_GETTER(name, expression)            \
  static GVariant *                                 \
  get_##name (gpointer user_data)                   \
  {                                                 \
    MsAccount *account = user_data;                 \
    const char *value = (expression);               \
    return g_variant_new_string (value ? value : ""); \
  }

STRING_GETTER (id, account->data->id)
STRING_GETTER (address, account->data->address)
STRING_GETTER (provider, account->data->provider)
STRING_GETTER (display_name, account->data->display_name)
STRING_GETTER (imap_host, account->data->imap->hostname)
STRING_GETTER (imap_security, ms_security_to_string (account->data->imap->security))
STRING_GETTER (imap_username, account->data->imap->username_template)
STRING_GETTER (smtp_host, account->data->smtp->hostname)
STRING_GETTER (smtp_security, ms_security_to_string (account->data->smtp->security))
STRING_GETTER (smtp_username, account->data->smtp->username_template)
STRING_GETTER (status, account->status)
STRING_GETTER (status_message, account->status_message)

static GVariant *
get_imap_port (gpointer user_data)
{
  MsAccount *account = user_data;

  return g_variant_new_uint16 (account->data->imap->port);
}

static GVariant *
get_smtp_port (gpointer user_data)
{
  MsAccount *account = user_data;

  return g_variant_new_uint16 (account->data->smtp->port);
}

static GVariant *
get_last_checked (gpointer user_data)
{
  MsAccount *account = user_data;

  return g_variant_new_uint64 ((guint64) MAX (account->data->last_checked, 0));
}

static GVariant *
get_secret_attributes (gpointer user_data)
{
  MsAccount *account = user_data;
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a{ss}"));

  g_variant_builder_add (&builder, "{ss}", "xdg:schema", MS_SECRET_SCHEMA_NAME);
  g_variant_builder_add (&builder, "{ss}", "address", account->data->address);
  g_variant_builder_add (&builder, "{ss}", "account-id", account->data->id);

  return g_variant_builder_end (&builder);
}

static gboolean
set_display_name (GVariant *value,
                  gpointer user_data,
                  GError **error)
{
  MsAccount *account = user_data;
  const char *name = g_variant_get_string (value, NULL);

  if (!ms_account_display_name_check (name, error))
    return FALSE;

  if (g_strcmp0 (account->data->display_name, name) == 0)
    return TRUE;

  g_free (account->data->display_name);
  account->data->display_name = g_strdup (name);
  bus_object_notify (account->object, MS_ACCOUNT_INTERFACE, "DisplayName");
  ms_accounts_save_soon (account->accounts);
  /* GOA's copy, if there is one, follows (in the background). */
  ms_goa_refresh (account->data, NULL);

  return TRUE;
}

/* GetSettings */

static void
handle_get_settings (BusCall *call,
                     GVariant *parameters,
                     gpointer user_data)
{
  MsAccount *account = user_data;
  g_autoptr(MsProvider) provider = account_provider (account);
  g_autoptr(GVariant) settings =
    g_variant_ref_sink (ms_settings_build (provider, account->data->address, NULL,
                                           account->data->imap->username_template, NULL));
  g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT (settings);

  if (account->data->smtp_max_message_size > 0)
    g_variant_dict_insert (&dict, "smtp-max-message-size", "t",
                           account->data->smtp_max_message_size);

  bus_call_return (call, g_variant_new ("(@a{sv})", g_variant_dict_end (&dict)));
}

/* Check */

static void
finish_check (MsAccount *account,
              const GError *error)
{
  g_autoptr(GPtrArray) calls = g_steal_pointer (&account->check_calls);

  account->check_calls = g_ptr_array_new ();
  for (guint i = 0; i < calls->len; i++)
    {
      if (error != NULL)
        bus_call_return_error (calls->pdata[i], error);
      else
        bus_call_return (calls->pdata[i], NULL);
    }
}

static void
record_check (MsAccount *account,
              MsValidation *validation,
              const GError *error)
{
  g_autofree char *message = NULL;
  const char *status;

  if (error == NULL)
    {
      status = MS_STATUS_OK;
      message = g_strdup_printf (_("Signed in to %s (IMAP) and %s port %u (SMTP)."),
                                 validation->imap->endpoint->hostname,
                                 validation->smtp->endpoint->hostname,
                                 validation->smtp->endpoint->port);
      if (validation->smtp->result.max_message_size > 0)
        account->data->smtp_max_message_size = validation->smtp->result.max_message_size;
    }
  else
    {
      status = g_error_matches (error, MS_ERROR, MS_ERROR_AUTHENTICATION_FAILED)
               ? MS_STATUS_AUTH_FAILED : MS_STATUS_UNREACHABLE;
      message = g_strdup (error->message);
    }

  account->data->last_checked = g_get_real_time () / G_USEC_PER_SEC;
  if (account->object != NULL)
    bus_object_notify (account->object, MS_ACCOUNT_INTERFACE, "LastChecked");
  ms_account_set_status (account, status, message);
  if (account->accounts != NULL)
    ms_accounts_save_soon (account->accounts);
}

/* Replaces @current with what @attempt signed in with, if that differs;
 * notifies the properties that changed (@prefix: "Imap" or "Smtp"). */
static void
adopt_endpoint (MsAccount *account,
                MsEndpoint **current,
                const MsAttempt *attempt,
                const char *prefix)
{
  const MsEndpoint *found = attempt->endpoint;
  MsEndpoint *old = *current;
  static const char * const properties[] = { "Host", "Port", "Security", "Username" };
  gboolean changed[G_N_ELEMENTS (properties)];

  changed[0] = g_strcmp0 (old->hostname, found->hostname) != 0;
  changed[1] = old->port != found->port;
  changed[2] = old->security != found->security;
  changed[3] = g_strcmp0 (old->username_template, attempt->username) != 0;
  if (!changed[0] && !changed[1] && !changed[2] && !changed[3])
    return;

  *current = ms_endpoint_new (found->hostname, found->port, found->security, attempt->username);
  ms_endpoint_free (old);
  for (gsize i = 0; account->object != NULL && i < G_N_ELEMENTS (properties); i++)
    if (changed[i])
      {
        g_autofree char *name = g_strconcat (prefix, properties[i], NULL);

        bus_object_notify (account->object, MS_ACCOUNT_INTERFACE, name);
      }
}

/* A new password was checked as a new account would be: what worked
 * (a user name, or 465 where 587 no longer answers) is what the account
 * keeps from now on, as AddAccount keeps it.  A Check changes nothing of
 * this: a café that blocks 587 says nothing about the account. */
static void
adopt_endpoints (MsAccount *account,
                 MsValidation *validation)
{
  adopt_endpoint (account, &account->data->imap, validation->imap, "Imap");
  adopt_endpoint (account, &account->data->smtp, validation->smtp, "Smtp");
}

static void
on_check_validated (GObject *source,
                    GAsyncResult *result,
                    gpointer user_data)
{
  g_autoptr(MsAccount) account = user_data;
  g_autoptr(MsValidation) validation = NULL;
  g_autoptr(GError) error = NULL;

  validation = ms_validate_finish (result, &error);

  /* A check cut short by a caller who left tells nothing about the account. */
  if (g_error_matches (error, MS_ERROR, MS_ERROR_CANCELLED))
    ms_account_set_status (account, MS_STATUS_UNCHECKED, "");
  else
    record_check (account, validation, error);

  finish_check (account, NULL);
}

static void
on_check_password (GObject *source,
                   GAsyncResult *result,
                   gpointer user_data)
{
  g_autoptr(MsAccount) account = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(MsProvider) provider = NULL;
  char *password;

  password = ms_secret_lookup_finish (result, &error);
  if (error != NULL)
    {
      ms_account_set_status (account, MS_STATUS_UNCHECKED, error->message);
      finish_check (account, error);
      return;
    }

  if (password == NULL)
    {
      ms_account_set_status (account, MS_STATUS_NEEDS_PASSWORD,
                             _("No password is stored for this account. Set its "
                               "app-specific password again."));
      finish_check (account, NULL);
      return;
    }

  provider = account_provider (account);
  ms_validate_async (provider, account->data->address, NULL, password,
                     MS_VALIDATION_DEFAULT_TIMEOUT_MS, NULL, NULL, NULL,
                     on_check_validated, ms_account_ref (account));
  ms_password_free (password);
}

static void
handle_check (BusCall *call,
              GVariant *parameters,
              gpointer user_data)
{
  MsAccount *account = user_data;

  /* A second Check while one runs waits for the same answer. */
  g_ptr_array_add (account->check_calls, call);
  if (account->check_calls->len > 1)
    return;

  ms_account_set_status (account, MS_STATUS_CHECKING, _("Checking…"));
  ms_secret_lookup_async (account->data->id, account->data->address, NULL,
                          on_check_password, ms_account_ref (account));
}

/* SetPassword */

typedef struct {
  MsAccount *account;
  BusCall *call;
  char *password;
  MsValidation *validation;
} SetPassword;

static void
set_password_free (SetPassword *op)
{
  ms_account_unref (op->account);
  ms_password_free (op->password);
  g_clear_pointer (&op->validation, ms_validation_free);
  g_free (op);
}

static void
on_new_password_stored (GObject *source,
                        GAsyncResult *result,
                        gpointer user_data)
{
  SetPassword *op = user_data;
  g_autoptr(GError) error = NULL;

  if (!ms_secret_store_finish (result, &error))
    {
      bus_call_return_error (op->call, error);
    }
  else
    {
      adopt_endpoints (op->account, op->validation);
      record_check (op->account, op->validation, NULL);
      bus_call_return (op->call, NULL);
      /* GOA's copy, if there is one, follows (in the background). */
      ms_goa_refresh (op->account->data, op->password);
    }

  set_password_free (op);
}

static void
on_new_password_validated (GObject *source,
                           GAsyncResult *result,
                           gpointer user_data)
{
  SetPassword *op = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *label = NULL;

  op->validation = ms_validate_finish (result, &error);
  if (op->validation == NULL)
    {
      /* The old password stays: only a password that works replaces it. */
      bus_call_return_error (op->call, error);
      set_password_free (op);
      return;
    }

  label = ms_account_secret_label (op->validation->provider, op->account->data->address);
  ms_secret_store_async (op->account->data->id, op->account->data->address, label,
                         op->password, NULL, on_new_password_stored, op);
}

static void
handle_set_password (BusCall *call,
                     GVariant *parameters,
                     gpointer user_data)
{
  MsAccount *account = user_data;
  g_autoptr(MsProvider) provider = NULL;
  g_autoptr(GError) error = NULL;
  const char *password;
  SetPassword *op;

  g_variant_get (parameters, "(&s)", &password);
  if (!ms_password_check (password, &error))
    {
      bus_call_return_error (call, error);
      return;
    }

  op = g_new0 (SetPassword, 1);
  op->account = ms_account_ref (account);
  op->call = call;
  op->password = ms_password_dup (password);

  provider = account_provider (account);
  ms_validate_async (provider, account->data->address, NULL, password,
                     MS_VALIDATION_DEFAULT_TIMEOUT_MS, bus_call_get_cancellable (call),
                     NULL, NULL, on_new_password_validated, op);
}

/* GetPassword */

static void
on_password_for_caller (GObject *source,
                        GAsyncResult *result,
                        gpointer user_data)
{
  BusCall *call = user_data;
  g_autoptr(GError) error = NULL;
  char *password = ms_secret_lookup_finish (result, &error);

  if (error != NULL)
    bus_call_return_error (call, error);
  else if (password == NULL)
    bus_call_return_new_error (call, MS_ERROR, MS_ERROR_SECRET_STORE_UNAVAILABLE,
                               _("No password is stored for this account. Set its "
                                 "app-specific password again."));
  else
    bus_call_return (call, g_variant_new ("(s)", password));

  ms_password_free (password);
}

static void
handle_get_password (BusCall *call,
                     GVariant *parameters,
                     gpointer user_data)
{
  MsAccount *account = user_data;

  ms_secret_lookup_async (account->data->id, account->data->address,
                          bus_call_get_cancellable (call), on_password_for_caller, call);
}

/* Remove */

static void
on_removed (GObject *source,
            GAsyncResult *result,
            gpointer user_data)
{
  BusCall *call = user_data;
  g_autoptr(GError) error = NULL;

  if (!ms_accounts_remove_finish (NULL, result, &error))
    bus_call_return_error (call, error);
  else
    bus_call_return (call, NULL);
}

static void
handle_remove (BusCall *call,
               GVariant *parameters,
               gpointer user_data)
{
  MsAccount *account = user_data;

  ms_accounts_remove_async (account->accounts, account, on_removed, call);
}

/* Export */

typedef struct {
  MsAccount *account;
  BusCall *call;
} Publishing;

static void
on_published (GObject *source,
              GAsyncResult *result,
              gpointer user_data)
{
  Publishing *publishing = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = ms_goa_publish_finish (result, &error);

  if (path == NULL)
    bus_call_return_error (publishing->call, error);
  else
    bus_call_return (publishing->call, g_variant_new ("(s)", path));

  ms_account_unref (publishing->account);
  g_free (publishing);
}

static void
on_password_for_goa (GObject *source,
                     GAsyncResult *result,
                     gpointer user_data)
{
  Publishing *publishing = user_data;
  g_autoptr(GError) error = NULL;
  char *password = ms_secret_lookup_finish (result, &error);

  if (password == NULL)
    {
      if (error == NULL)
        error = g_error_new_literal (MS_ERROR, MS_ERROR_SECRET_STORE_UNAVAILABLE,
                                     _("No password is stored for this account. Set its "
                                       "app-specific password again."));
      bus_call_return_error (publishing->call, error);
      ms_account_unref (publishing->account);
      g_free (publishing);
      return;
    }

  ms_goa_publish_async (publishing->account->data, password,
                        bus_call_get_cancellable (publishing->call), on_published, publishing);
  ms_password_free (password);
}

static void
handle_export (BusCall *call,
               GVariant *parameters,
               gpointer user_data)
{
  MsAccount *account = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  const char *format;

  g_variant_get (parameters, "(&s)", &format);

  /* GNOME Online Accounts gets the account itself, password included. */
  if (g_str_equal (format, MS_EXPORT_FORMAT_GOA))
    {
      Publishing *publishing = g_new0 (Publishing, 1);

      publishing->account = ms_account_ref (account);
      publishing->call = call;
      ms_secret_lookup_async (account->data->id, account->data->address,
                              bus_call_get_cancellable (call), on_password_for_goa, publishing);
      return;
    }

  if (!ms_export_is_text_format (format))
    {
      g_autofree char *known = g_strjoinv (", ", (char **) ms_export_text_formats ());
      /* The caller chose the text: echo a little of it, not megabytes. */
      g_autofree char *shown = g_utf8_substring (format, 0, MIN (g_utf8_strlen (format, -1), 64));

      bus_call_return_new_error (call, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                                 _("There is no export format “%s”. The formats are: %s, %s."),
                                 shown, known, MS_EXPORT_FORMAT_GOA);
      return;
    }

  text = ms_export_render (format, account->data, known_provider (account), &error);
  if (text == NULL)
    bus_call_return_error (call, error);
  else
    bus_call_return (call, g_variant_new ("(s)", text));
}

static const BusMethod account_methods[] = {
  { "GetSettings", handle_get_settings },
  { "Check", handle_check },
  { "SetPassword", handle_set_password },
  { "GetPassword", handle_get_password },
  { "Remove", handle_remove },
  { "Export", handle_export },
  { NULL }
};

static const BusProperty account_properties[] = {
  { "Id", get_id, NULL },
  { "Address", get_address, NULL },
  { "Provider", get_provider, NULL },
  { "DisplayName", get_display_name, set_display_name },
  { "ImapHost", get_imap_host, NULL },
  { "ImapPort", get_imap_port, NULL },
  { "ImapSecurity", get_imap_security, NULL },
  { "ImapUsername", get_imap_username, NULL },
  { "SmtpHost", get_smtp_host, NULL },
  { "SmtpPort", get_smtp_port, NULL },
  { "SmtpSecurity", get_smtp_security, NULL },
  { "SmtpUsername", get_smtp_username, NULL },
  { "SecretAttributes", get_secret_attributes, NULL },
  { "Status", get_status, NULL },
  { "StatusMessage", get_status_message, NULL },
  { "LastChecked", get_last_checked, NULL },
  { NULL }
};

static const BusInterfaceVTable account_interface = {
  .name = MS_ACCOUNT_INTERFACE,
  .methods = account_methods,
  .properties = account_properties,
};

char *
ms_account_path_for_address (const char *address)
{
  g_autofree char *escaped = bus_path_escape (address);

  return g_strconcat (MS_ACCOUNT_PATH_PREFIX, escaped, NULL);
}

void
ms_account_export (MsAccount *account,
                   BusService *service,
                   gboolean announce)
{
  static const BusInterfaceVTable * const interfaces[] = { &account_interface, NULL };
  g_autofree char *path = ms_account_path_for_address (account->data->address);

  g_return_if_fail (account->object == NULL);
  account->object = bus_service_export (service, path, interfaces,
                                        announce ? BUS_EXPORT_NONE : BUS_EXPORT_UNANNOUNCED,
                                        account);
}

void
ms_account_unexport (MsAccount *account)
{
  if (account->object != NULL)
    bus_object_unexport (account->object);
  account->object = NULL;
  account->accounts = NULL;
}
