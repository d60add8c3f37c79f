/* goa-publish.c: publishing an account to GNOME Online Accounts
 *
 * GOA has no library call for adding an account without its dialogs, but
 * goa-daemon's Manager.AddAccount takes the same details its IMAP/SMTP
 * provider writes to accounts.conf.  GDBus talks to it: this is a client
 * of someone else's API, where GIO's proxies-free calls are the least code.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "goa-publish.h"

#include <glib/gi18n.h>
#include <string.h>

#include "mailsetup-error.h"
#include "password.h"

#define GOA_BUS_NAME "org.gnome.OnlineAccounts"
#define GOA_MANAGER_PATH "/org/gnome/OnlineAccounts/Manager"
#define GOA_OBJECTS_PATH "/org/gnome/OnlineAccounts"
#define GOA_ACCOUNT_INTERFACE "org.gnome.OnlineAccounts.Account"
#define GOA_PROVIDER "imap_smtp"
#define GOA_CALL_TIMEOUT_MS 20000

typedef struct {
  GDBusConnection *bus;
  char *address;
  char *password;
  GVariant *details;
} Publish;

static void
publish_free (Publish *publish)
{
  g_clear_object (&publish->bus);
  g_free (publish->address);
  ms_password_free (publish->password);
  g_clear_pointer (&publish->details, g_variant_unref);
  g_free (publish);
}

static GError *
unavailable (GError *error)
{
  g_autoptr(GError) owned = error;

  if (g_error_matches (owned, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return g_error_new_literal (MS_ERROR, MS_ERROR_CANCELLED, _("The request was cancelled."));

  g_dbus_error_strip_remote_error (owned);
  return g_error_new (MS_ERROR, MS_ERROR_SERVICE_UNAVAILABLE,
                      _("GNOME Online Accounts did not take the account: %s"),
                      owned->message);
}

/* "host" for the protocol's usual port, else "host:port", as GOA reads it. */
static char *
host_with_port (const MsEndpoint *endpoint,
                guint16 tls_port,
                guint16 starttls_port)
{
  guint16 usual = endpoint->security == MS_SECURITY_TLS ? tls_port : starttls_port;

  if (endpoint->port == usual)
    return g_strdup (endpoint->hostname);

  /* An IPv6 literal needs brackets before a port. */
  if (strchr (endpoint->hostname, ':') != NULL)
    return g_strdup_printf ("[%s]:%u", endpoint->hostname, endpoint->port);
  return g_strdup_printf ("%s:%u", endpoint->hostname, endpoint->port);
}

static const char *
boolean (gboolean value)
{
  return value ? "true" : "false";
}

GVariant *
ms_goa_details (const MsAccountData *account)
{
  g_auto(GVariantBuilder) details = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a{ss}"));
  g_autofree char *imap_host = host_with_port (account->imap, 993, 143);
  g_autofree char *smtp_host = host_with_port (account->smtp, 465, 587);
  gboolean imap_tls = account->imap->security == MS_SECURITY_TLS;
  gboolean smtp_tls = account->smtp->security == MS_SECURITY_TLS;
  const char *name = account->display_name && *account->display_name
                     ? account->display_name : account->address;

  g_variant_builder_add (&details, "{ss}", "EmailAddress", account->address);
  g_variant_builder_add (&details, "{ss}", "Name", name);
  /* Both spellings: the key GOA's IMAP/SMTP provider reads for "mail is on"
   * changed between releases. */
  g_variant_builder_add (&details, "{ss}", "Enabled", "true");
  g_variant_builder_add (&details, "{ss}", "MailEnabled", "true");
  g_variant_builder_add (&details, "{ss}", "ImapHost", imap_host);
  g_variant_builder_add (&details, "{ss}", "ImapUserName", account->imap->username_template);
  g_variant_builder_add (&details, "{ss}", "ImapUseSsl", boolean (imap_tls));
  g_variant_builder_add (&details, "{ss}", "ImapUseTls", boolean (!imap_tls));
  g_variant_builder_add (&details, "{ss}", "ImapAcceptSslErrors", "false");
  g_variant_builder_add (&details, "{ss}", "SmtpHost", smtp_host);
  g_variant_builder_add (&details, "{ss}", "SmtpUseAuth", "true");
  g_variant_builder_add (&details, "{ss}", "SmtpUserName", account->smtp->username_template);
  g_variant_builder_add (&details, "{ss}", "SmtpAuthPlain", "true");
  g_variant_builder_add (&details, "{ss}", "SmtpAuthLogin", "true");
  g_variant_builder_add (&details, "{ss}", "SmtpUseSsl", boolean (smtp_tls));
  g_variant_builder_add (&details, "{ss}", "SmtpUseTls", boolean (!smtp_tls));
  g_variant_builder_add (&details, "{ss}", "SmtpAcceptSslErrors", "false");

  return g_variant_builder_end (&details);
}

static void
on_added (GObject *source,
          GAsyncResult *result,
          gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GVariant) reply = NULL;
  GError *error = NULL;
  const char *path;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (reply == NULL)
    {
      g_task_return_error (task, unavailable (error));
      return;
    }

  g_variant_get (reply, "(&o)", &path);
  g_task_return_pointer (task, g_strdup (path), g_free);
}

static void
add_account (GTask *task)
{
  Publish *publish = g_task_get_task_data (task);
  g_auto(GVariantBuilder) credentials = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);

  g_variant_builder_add (&credentials, "{sv}", "imap-password",
                         g_variant_new_string (publish->password));
  g_variant_builder_add (&credentials, "{sv}", "smtp-password",
                         g_variant_new_string (publish->password));

  g_dbus_connection_call (publish->bus, GOA_BUS_NAME, GOA_MANAGER_PATH,
                          "org.gnome.OnlineAccounts.Manager", "AddAccount",
                          g_variant_new ("(sss@a{sv}@a{ss})", GOA_PROVIDER,
                                         publish->address, publish->address,
                                         g_variant_builder_end (&credentials),
                                         publish->details),
                          G_VARIANT_TYPE ("(o)"), G_DBUS_CALL_FLAGS_NONE,
                          GOA_CALL_TIMEOUT_MS, g_task_get_cancellable (task),
                          on_added, task);
}

/* The path of an "imap_smtp" account for our address, if GOA has one. */
static char *
find_existing (GVariant *objects,
               const char *address)
{
  g_autoptr(GVariantIter) iter = NULL;
  const char *path;
  GVariant *interfaces;

  g_variant_get (objects, "(a{oa{sa{sv}}})", &iter);
  while (g_variant_iter_loop (iter, "{&o@a{sa{sv}}}", &path, &interfaces))
    {
      g_autoptr(GVariant) account = g_variant_lookup_value (interfaces, GOA_ACCOUNT_INTERFACE,
                                                            G_VARIANT_TYPE_VARDICT);
      const char *provider = NULL, *identity = NULL;

      if (account == NULL)
        continue;
      g_variant_lookup (account, "ProviderType", "&s", &provider);
      g_variant_lookup (account, "Identity", "&s", &identity);
      if (g_strcmp0 (provider, GOA_PROVIDER) == 0 && g_strcmp0 (identity, address) == 0)
        {
          g_variant_unref (interfaces);
          return g_strdup (path);
        }
    }

  return NULL;
}

static void
on_objects (GObject *source,
            GAsyncResult *result,
            gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Publish *publish = g_task_get_task_data (task);
  g_autoptr(GVariant) objects = NULL;
  g_autofree char *existing = NULL;
  GError *error = NULL;

  objects = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (objects == NULL)
    {
      g_task_return_error (task, unavailable (error));
      return;
    }

  existing = find_existing (objects, publish->address);
  if (existing != NULL)
    {
      g_debug ("%s is already in GNOME Online Accounts as %s", publish->address, existing);
      g_task_return_pointer (task, g_steal_pointer (&existing), g_free);
      return;
    }

  add_account (g_steal_pointer (&task));
}

static void
on_bus (GObject *source,
        GAsyncResult *result,
        gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Publish *publish = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  GError *error = NULL;

  publish->bus = g_bus_get_finish (result, &error);
  if (publish->bus == NULL)
    {
      g_task_return_error (task, unavailable (error));
      return;
    }

  /* The task is handed over in the same call: read what we need first. */
  g_dbus_connection_call (publish->bus, GOA_BUS_NAME, GOA_OBJECTS_PATH,
                          "org.freedesktop.DBus.ObjectManager", "GetManagedObjects",
                          NULL, G_VARIANT_TYPE ("(a{oa{sa{sv}}})"), G_DBUS_CALL_FLAGS_NONE,
                          GOA_CALL_TIMEOUT_MS, cancellable,
                          on_objects, g_steal_pointer (&task));
}

void
ms_goa_publish_async (const MsAccountData *account,
                      const char *password,
                      GCancellable *cancellable,
                      GAsyncReadyCallback callback,
                      gpointer user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  Publish *publish = g_new0 (Publish, 1);

  g_task_set_source_tag (task, ms_goa_publish_async);
  g_task_set_check_cancellable (task, FALSE);

  publish->address = g_strdup (account->address);
  publish->password = ms_password_dup (password);
  publish->details = g_variant_ref_sink (ms_goa_details (account));
  g_task_set_task_data (task, publish, (GDestroyNotify) publish_free);

  g_bus_get (G_BUS_TYPE_SESSION, cancellable, on_bus, task);
}

char *
ms_goa_publish_finish (GAsyncResult *result,
                       GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
