/* goa-publish.c: publishing an account to GNOME Online Accounts
 *
 * GOA has no library call for adding an account without its dialogs, but
 * goa-daemon's Manager.AddAccount takes the same details its IMAP/SMTP
 * provider writes to accounts.conf.  GDBus talks to it: this is a client
 * of someone else's API, where GIO's proxies-free calls are the least code.
 *
 * Publishing again: the accounts we add carry the detail
 * MailsetupAccountId (our account's Id), which goa-daemon keeps in its
 * accounts.conf.  Ours is returned as it is when its Mail properties and
 * both passwords are what we would publish; otherwise a new one is added
 * and the old one removed (GOA 3.46 has no call to change details or
 * credentials).  An account for the address without the marker is the
 * person's own: it is left alone, and publishing fails with AccountExists
 * rather than put a second account beside it.
 *
 * Refreshing (after SetPassword or a new DisplayName) is the same work
 * with two differences: it never starts goa-daemon, and it changes
 * nothing unless GOA already has our account for this mailsetup account.
 * After a new name it looks the stored password up only then.
 *
 * One at a time per address: two runs side by side would both see the
 * outdated account and both add a new one.  A run that starts while
 * another for the same address is under way waits for it to end.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "goa-publish.h"

#include <glib/gi18n.h>
#include <string.h>

#include "mailsetup-error.h"
#include "password.h"
#include "secrets/secret-store.h"

#define GOA_BUS_NAME "org.gnome.OnlineAccounts"
#define GOA_MANAGER_PATH "/org/gnome/OnlineAccounts/Manager"
#define GOA_OBJECTS_PATH "/org/gnome/OnlineAccounts"
#define GOA_ACCOUNT_INTERFACE "org.gnome.OnlineAccounts.Account"
#define GOA_PROVIDER "imap_smtp"
#define GOA_CALL_TIMEOUT_MS 20000

/* The details key that marks the GOA accounts mailsetup made: the
 * mailsetup account's Id.  goa-daemon keeps detail keys it does not know
 * in its accounts.conf, but shows none of them on the bus, so they are
 * read back from that file. */
#define GOA_MARKER_KEY "MailsetupAccountId"

/* The Mail properties are the details GOA read, under the same names:
 * the details that have no such property (Enabled, the marker, …) are
 * not compared. */
#define GOA_MAIL_INTERFACE "org.gnome.OnlineAccounts.Mail"
#define GOA_PASSWORD_INTERFACE "org.gnome.OnlineAccounts.PasswordBased"

typedef struct {
  GDBusConnection *bus;
  char *address;
  char *account_id;
  char *password;            /* NULL: the stored one, looked up when needed */
  GVariant *details;
  GVariant *objects;         /* GetManagedObjects' reply */
  char *keep;                /* our GOA account, if it matches so far */
  GPtrArray *stale;          /* our GOA accounts to remove */
  guint hand_made;           /* accounts for the address not made by us */
  char *result;              /* the path to return once stale is empty */
  guint checked;             /* which password is being compared */
  gboolean refresh;          /* only bring an account of ours up to date */
  GDBusCallFlags flags;      /* NO_AUTO_START when refreshing */
} Publish;

static void
publish_free (Publish *publish)
{
  g_clear_object (&publish->bus);
  g_free (publish->address);
  g_free (publish->account_id);
  ms_password_free (publish->password);
  g_clear_pointer (&publish->details, g_variant_unref);
  g_clear_pointer (&publish->objects, g_variant_unref);
  g_free (publish->keep);
  g_clear_pointer (&publish->stale, g_ptr_array_unref);
  g_free (publish->result);
  g_free (publish);
}

/* One run at a time per address */

/* address → the GQueue of GTasks waiting for the run under way; an
 * address with no run under way is not in it. */
static GHashTable *running;

static void start (GTask *task);

/* Runs @task now, or after the runs for its address before it.  Takes
 * @task. */
static void
start_or_wait (GTask *task)
{
  Publish *publish = g_task_get_task_data (task);
  GQueue *waiting;

  if (running == NULL)
    running = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                     (GDestroyNotify) g_queue_free);

  waiting = g_hash_table_lookup (running, publish->address);
  if (waiting != NULL)
    {
      g_queue_push_tail (waiting, task);
      return;
    }

  g_hash_table_insert (running, g_strdup (publish->address), g_queue_new ());
  start (task);
}

/* Returns @path (transfer full, may be NULL) or @error from @task, then
 * starts the next run for its address.  Takes @task. */
static void
done (GTask *task,
      char *path,
      GError *error)
{
  Publish *publish = g_task_get_task_data (task);
  g_autofree char *address = g_strdup (publish->address);
  GQueue *waiting;

  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, path, g_free);
  g_object_unref (task);

  waiting = g_hash_table_lookup (running, address);
  if (!g_queue_is_empty (waiting))
    {
      start (g_queue_pop_head (waiting));
      return;
    }

  g_hash_table_remove (running, address);
  if (g_hash_table_size (running) == 0)
    g_clear_pointer (&running, g_hash_table_unref);
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
  /* Ours: GOA keeps the key, and publishing again looks for it. */
  if (account->id != NULL)
    g_variant_builder_add (&details, "{ss}", GOA_MARKER_KEY, account->id);

  return g_variant_builder_end (&details);
}

/* Wiping */

/* A copy of @password that wipes itself when GDBus lets go of the message
 * it was sent in (GDBus's own serialised message is out of our reach). */
static GVariant *
password_variant (const char *password)
{
  char *copy = ms_password_dup (password);
  g_autoptr(GBytes) bytes = g_bytes_new_with_free_func (copy, strlen (copy) + 1,
                                                         (GDestroyNotify) ms_password_free, copy);

  /* Trusted: ms_goa_publish_async() checked that it is UTF-8 without NUL. */
  return g_variant_new_from_bytes (G_VARIANT_TYPE_STRING, bytes, TRUE);
}

/* Whether the string in @reply, a "(s)" that nobody else holds, is
 * @password; wipes it either way.  GVariant strings are immutable by
 * contract, but this one is ours alone and freed right after. */
static gboolean
password_matches (GVariant *reply,
                  const char *password)
{
  g_autoptr(GVariant) child = g_variant_get_child_value (reply, 0);
  gsize length = 0;
  const char *theirs = g_variant_get_string (child, &length);
  gboolean same = strcmp (theirs, password) == 0;

  if (length > 0)
    explicit_bzero ((char *) theirs, length);
  return same;
}

/* Removing what we published before */

static void remove_next_or_return (GTask *task);

static gboolean
already_gone (const GError *error)
{
  return g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_OBJECT)
         || g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD)
         || g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_INTERFACE);
}

static void
on_removed (GObject *source,
            GAsyncResult *result,
            gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GVariant) reply = NULL;
  GError *error = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (reply == NULL)
    {
      /* Removed in GNOME Settings meanwhile: what we wanted. */
      if (!already_gone (error))
        {
          done (g_steal_pointer (&task), NULL, unavailable (error));
          return;
        }
      g_clear_error (&error);
    }

  remove_next_or_return (g_steal_pointer (&task));
}

/* Removes the accounts in publish->stale one by one (GOA 3.46 has no
 * call to change an account's details or credentials), then returns
 * publish->result.  Takes @task.
 *
 * goa-daemon 3.46 has a race of its own here, as with any removal (GNOME
 * Settings' too): its periodic credentials check (at start-up and after
 * network changes) reads the account's details from its file at each
 * step, and an account removed during its check fails an assertion
 * there.  Nothing on the bus tells whether a check is running, and
 * EnsureCredentials first would cost a login with the old, perhaps
 * revoked, password on every replacement; so the window is left to GOA. */
static void
remove_next_or_return (GTask *task)
{
  Publish *publish = g_task_get_task_data (task);
  g_autofree char *path = NULL;

  if (publish->stale->len == 0)
    {
      done (task, g_steal_pointer (&publish->result), NULL);
      return;
    }

  path = g_ptr_array_steal_index (publish->stale, publish->stale->len - 1);
  g_debug ("Removing %s, an outdated copy of %s, from GNOME Online Accounts",
           path, publish->address);
  /* Not cancellable: once the new account is there, the old one goes
   * even if the caller has left, so GOA is not left with two. */
  g_dbus_connection_call (publish->bus, GOA_BUS_NAME, path, GOA_ACCOUNT_INTERFACE, "Remove",
                          NULL, G_VARIANT_TYPE_UNIT, publish->flags,
                          GOA_CALL_TIMEOUT_MS, NULL, on_removed, task);
}

/* Adding */

static void
on_added (GObject *source,
          GAsyncResult *result,
          gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Publish *publish = g_task_get_task_data (task);
  g_autoptr(GVariant) reply = NULL;
  GError *error = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (reply == NULL)
    {
      done (g_steal_pointer (&task), NULL, unavailable (error));
      return;
    }

  g_variant_get (reply, "(o)", &publish->result);
  remove_next_or_return (g_steal_pointer (&task));
}

/* Adds the account, then removes the outdated ones: if GOA refuses the
 * new one, the old one is still there.  Takes @task. */
static void
add_account (GTask *task)
{
  Publish *publish = g_task_get_task_data (task);
  g_auto(GVariantBuilder) credentials = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);

  g_variant_builder_add (&credentials, "{sv}", "imap-password",
                         password_variant (publish->password));
  g_variant_builder_add (&credentials, "{sv}", "smtp-password",
                         password_variant (publish->password));

  g_dbus_connection_call (publish->bus, GOA_BUS_NAME, GOA_MANAGER_PATH,
                          "org.gnome.OnlineAccounts.Manager", "AddAccount",
                          g_variant_new ("(sss@a{sv}@a{ss})", GOA_PROVIDER,
                                         publish->address, publish->address,
                                         g_variant_builder_end (&credentials),
                                         publish->details),
                          G_VARIANT_TYPE ("(o)"), publish->flags,
                          GOA_CALL_TIMEOUT_MS, g_task_get_cancellable (task),
                          on_added, task);
}

/* Outdated: replaced by a new one.  Takes @task. */
static void
replace_kept (GTask *task)
{
  Publish *publish = g_task_get_task_data (task);

  g_ptr_array_add (publish->stale, g_steal_pointer (&publish->keep));
  add_account (task);
}

/* Comparing the passwords */

static const char *const password_ids[] = { "imap-password", "smtp-password" };

static void check_password (GTask *task, guint which);

static void
on_password (GObject *source,
             GAsyncResult *result,
             gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Publish *publish = g_task_get_task_data (task);
  g_autoptr(GVariant) reply = NULL;
  GError *error = NULL;
  guint which = publish->checked;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (reply == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          done (g_steal_pointer (&task), NULL, unavailable (error));
          return;
        }
      /* GOA lost it (its keyring item gone, say): publish it again. */
      g_debug ("GNOME Online Accounts has no %s for %s: %s",
               password_ids[which], publish->keep, error->message);
      g_clear_error (&error);
      replace_kept (g_steal_pointer (&task));
      return;
    }

  if (!password_matches (reply, publish->password))
    {
      g_debug ("The %s of %s is outdated", password_ids[which], publish->keep);
      replace_kept (g_steal_pointer (&task));
      return;
    }

  if (which + 1 < G_N_ELEMENTS (password_ids))
    {
      check_password (g_steal_pointer (&task), which + 1);
      return;
    }

  g_debug ("%s is already in GNOME Online Accounts as %s", publish->address, publish->keep);
  publish->result = g_steal_pointer (&publish->keep);
  remove_next_or_return (g_steal_pointer (&task));
}

/* Takes @task. */
static void
check_password (GTask *task,
                guint which)
{
  Publish *publish = g_task_get_task_data (task);

  publish->checked = which;
  g_dbus_connection_call (publish->bus, GOA_BUS_NAME, publish->keep,
                          GOA_PASSWORD_INTERFACE, "GetPassword",
                          g_variant_new ("(s)", password_ids[which]),
                          G_VARIANT_TYPE ("(s)"), publish->flags,
                          GOA_CALL_TIMEOUT_MS, g_task_get_cancellable (task),
                          on_password, task);
}

/* Looking at what GOA has */

/* Whether the Mail properties GOA shows for an account are what @details
 * would give: each detail that is a Mail property under the same name
 * (hosts with their ports, user names, TLS and authentication flags, the
 * name and the address).  No Mail interface: mail is switched off for the
 * account in GNOME Settings, which publishing turns back on. */
static gboolean
mail_matches (GVariant *interfaces,
              GVariant *details)
{
  g_autoptr(GVariant) mail = g_variant_lookup_value (interfaces, GOA_MAIL_INTERFACE,
                                                     G_VARIANT_TYPE_VARDICT);
  GVariantIter iter;
  const char *key, *value;

  if (mail == NULL)
    return FALSE;

  g_variant_iter_init (&iter, details);
  while (g_variant_iter_next (&iter, "{&s&s}", &key, &value))
    {
      g_autoptr(GVariant) property = g_variant_lookup_value (mail, key, NULL);

      if (property == NULL)
        continue;
      if (g_variant_is_of_type (property, G_VARIANT_TYPE_BOOLEAN))
        {
          if (!g_variant_get_boolean (property) != !g_str_equal (value, "true"))
            return FALSE;
        }
      else if (g_variant_is_of_type (property, G_VARIANT_TYPE_STRING))
        {
          if (!g_str_equal (g_variant_get_string (property, NULL), value))
            return FALSE;
        }
    }

  return TRUE;
}

/* GOA's own file: $XDG_CONFIG_HOME/goa-1.0/accounts.conf, as goa-daemon
 * finds it in the same session. */
static GFile *
goa_accounts_file (void)
{
  g_autofree char *path = g_build_filename (g_get_user_config_dir (), "goa-1.0",
                                            "accounts.conf", NULL);

  return g_file_new_for_path (path);
}

static void act (GTask *task);
static void on_stored_password (GObject *source, GAsyncResult *result, gpointer user_data);

/* Sorts GOA's "imap_smtp" accounts for our address (@candidates, whose
 * marker @conf has): ours that match what we would publish are kept, our
 * others (outdated, or left by a removed mailsetup account with the same
 * address) are replaced, and those made by hand are left alone.  Takes
 * @task. */
static void
decide (GTask *task,
        GKeyFile *conf)
{
  Publish *publish = g_task_get_task_data (task);
  g_autoptr(GVariantIter) iter = NULL;
  const char *path;
  GVariant *interfaces;
  guint hand_made = 0;
  guint ours = 0;
  gboolean is_ours;

  g_variant_get (publish->objects, "(a{oa{sa{sv}}})", &iter);
  while (g_variant_iter_loop (iter, "{&o@a{sa{sv}}}", &path, &interfaces))
    {
      g_autoptr(GVariant) account = g_variant_lookup_value (interfaces, GOA_ACCOUNT_INTERFACE,
                                                            G_VARIANT_TYPE_VARDICT);
      const char *provider = NULL, *identity = NULL, *id = NULL;
      g_autofree char *group = NULL;
      g_autofree char *marker = NULL;

      if (account == NULL)
        continue;
      g_variant_lookup (account, "ProviderType", "&s", &provider);
      g_variant_lookup (account, "Identity", "&s", &identity);
      g_variant_lookup (account, "Id", "&s", &id);
      if (g_strcmp0 (provider, GOA_PROVIDER) != 0 || g_strcmp0 (identity, publish->address) != 0)
        continue;

      if (conf != NULL && id != NULL)
        {
          group = g_strconcat ("Account ", id, NULL);
          marker = g_key_file_get_string (conf, group, GOA_MARKER_KEY, NULL);
        }

      if (marker == NULL)
        {
          hand_made++;
          continue;
        }

      is_ours = g_strcmp0 (marker, publish->account_id) == 0;
      ours += is_ours;
      if (publish->keep == NULL && is_ours && mail_matches (interfaces, publish->details))
        publish->keep = g_strdup (path);
      else
        g_ptr_array_add (publish->stale, g_strdup (path));
    }

  /* Never published for this account (or removed from GOA since): a
   * refresh leaves GOA as it is. */
  if (publish->refresh && ours == 0)
    {
      done (task, NULL, NULL);
      return;
    }

  publish->hand_made = hand_made;
  if (publish->password == NULL)
    {
      /* Only now that GOA has a copy to compare: no keyring is asked
       * (or unlocked) for a person who never published the account. */
      ms_secret_lookup_async (publish->account_id, publish->address,
                              g_task_get_cancellable (task), on_stored_password, task);
      return;
    }

  act (task);
}

static void
on_stored_password (GObject *source,
                    GAsyncResult *result,
                    gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Publish *publish = g_task_get_task_data (task);
  GError *error = NULL;

  publish->password = ms_secret_lookup_finish (result, &error);
  if (publish->password == NULL && error == NULL)
    error = g_error_new_literal (MS_ERROR, MS_ERROR_SECRET_STORE_UNAVAILABLE,
                                 _("No password is stored for this account. Set its "
                                   "app-specific password again."));
  if (error != NULL || !ms_password_check (publish->password, &error))
    {
      done (g_steal_pointer (&task), NULL, error);
      return;
    }

  act (g_steal_pointer (&task));
}

/* Keeps, adds or refuses, as decide() found.  Takes @task. */
static void
act (GTask *task)
{
  Publish *publish = g_task_get_task_data (task);

  if (publish->keep != NULL)
    {
      check_password (task, 0);
      return;
    }

  /* Someone's own account for the address: neither changed nor taken
   * over, and no second account beside it. */
  if (publish->hand_made > 0 && publish->stale->len == 0)
    {
      done (task, NULL,
            g_error_new (MS_ERROR, MS_ERROR_ACCOUNT_EXISTS,
                         _("GNOME Online Accounts already has an account for %s that "
                           "mailsetup did not make, and mailsetup leaves it as it is. "
                           "To publish this account instead, remove that one in "
                           "Settings → Online Accounts, then try again."),
                         publish->address));
      return;
    }

  add_account (task);
}

static void
on_conf (GObject *source,
         GAsyncResult *result,
         gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GKeyFile) conf = g_key_file_new ();
  g_autofree char *contents = NULL;
  gsize length = 0;
  GError *error = NULL;

  if (!g_file_load_contents_finish (G_FILE (source), result, &contents, &length, NULL, &error))
    {
      /* No file: no marker, every account is someone's own. */
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        {
          done (g_steal_pointer (&task), NULL, unavailable (error));
          return;
        }
      g_clear_error (&error);
    }
  else if (!g_key_file_load_from_data (conf, contents, length, G_KEY_FILE_NONE, &error))
    {
      done (g_steal_pointer (&task), NULL, unavailable (error));
      return;
    }

  decide (g_steal_pointer (&task), conf);
}

/* Whether GOA has an "imap_smtp" account for @address at all. */
static gboolean
has_account_for (GVariant *objects,
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
          return TRUE;
        }
    }

  return FALSE;
}

static void
on_objects (GObject *source,
            GAsyncResult *result,
            gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Publish *publish = g_task_get_task_data (task);
  g_autoptr(GFile) file = NULL;
  GCancellable *cancellable;
  GError *error = NULL;

  publish->objects = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (publish->objects == NULL)
    {
      /* goa-daemon is not running (a refresh does not start it): it has
       * nothing of ours to bring up to date. */
      if (publish->refresh
          && (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER)
              || g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN)))
        {
          g_debug ("GNOME Online Accounts is not running, so it has nothing of %s to update",
                   publish->address);
          g_clear_error (&error);
          done (g_steal_pointer (&task), NULL, NULL);
          return;
        }
      done (g_steal_pointer (&task), NULL, unavailable (error));
      return;
    }

  if (!has_account_for (publish->objects, publish->address))
    {
      if (publish->refresh)
        done (g_steal_pointer (&task), NULL, NULL);
      else
        add_account (g_steal_pointer (&task));
      return;
    }

  /* Which of them we made is in GOA's file only.  goa-daemon writes it
   * before its objects appear on the bus. */
  file = goa_accounts_file ();
  cancellable = g_task_get_cancellable (task);
  g_file_load_contents_async (file, cancellable, on_conf, g_steal_pointer (&task));
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
      done (g_steal_pointer (&task), NULL, unavailable (error));
      return;
    }

  /* The task is handed over in the same call: read what we need first. */
  g_dbus_connection_call (publish->bus, GOA_BUS_NAME, GOA_OBJECTS_PATH,
                          "org.freedesktop.DBus.ObjectManager", "GetManagedObjects",
                          NULL, G_VARIANT_TYPE ("(a{oa{sa{sv}}})"), publish->flags,
                          GOA_CALL_TIMEOUT_MS, cancellable,
                          on_objects, g_steal_pointer (&task));
}

static void
start (GTask *task)
{
  g_bus_get (G_BUS_TYPE_SESSION, g_task_get_cancellable (task), on_bus, task);
}

static void
publish_or_refresh (const MsAccountData *account,
                    const char *password,
                    gboolean refresh,
                    GCancellable *cancellable,
                    GAsyncReadyCallback callback,
                    gpointer user_data,
                    gpointer source_tag)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  Publish *publish = g_new0 (Publish, 1);
  GError *error = NULL;

  g_task_set_source_tag (task, source_tag);
  g_task_set_check_cancellable (task, FALSE);

  publish->address = g_strdup (account->address);
  publish->account_id = g_strdup (account->id);
  publish->password = ms_password_dup (password);
  publish->details = g_variant_ref_sink (ms_goa_details (account));
  publish->stale = g_ptr_array_new_with_free_func (g_free);
  publish->refresh = refresh;
  /* A refresh finds what is there: a goa-daemon that is not running
   * has nothing of ours that is up to date, and stays as it is. */
  publish->flags = refresh ? G_DBUS_CALL_FLAGS_NO_AUTO_START : G_DBUS_CALL_FLAGS_NONE;
  g_task_set_task_data (task, publish, (GDestroyNotify) publish_free);

  /* The keyring may hold anything; a D-Bus string must be UTF-8. */
  if (password != NULL && !ms_password_check (password, &error))
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }

  start_or_wait (task);
}

void
ms_goa_publish_async (const MsAccountData *account,
                      const char *password,
                      GCancellable *cancellable,
                      GAsyncReadyCallback callback,
                      gpointer user_data)
{
  publish_or_refresh (account, password, FALSE, cancellable, callback, user_data,
                      ms_goa_publish_async);
}

char *
ms_goa_publish_finish (GAsyncResult *result,
                       GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
on_refreshed (GObject *source,
              GAsyncResult *result,
              gpointer user_data)
{
  Publish *publish = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_task_propagate_pointer (G_TASK (result), &error);

  if (error != NULL)
    g_warning ("Could not update the GNOME Online Accounts copy of %s: %s",
               publish->address, error->message);
  else if (path == NULL)
    g_debug ("GNOME Online Accounts has no copy of %s to update", publish->address);
  else
    g_debug ("The GNOME Online Accounts copy of %s is up to date: %s", publish->address, path);
}

void
ms_goa_refresh (const MsAccountData *account,
                const char *password)
{
  publish_or_refresh (account, password, TRUE, NULL, on_refreshed, NULL, ms_goa_refresh);
}
