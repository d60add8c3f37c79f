/* credentials.c: the password a command hands to the daemon
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "credentials.h"

#include <glib/gi18n.h>
#include <unistd.h>

#include "bus-variant.h"
#include "commands.h"
#include "mailsetup-error.h"
#include "password-input.h"
#include "settings-format.h"

gboolean ctl_credentials_from_stdin;
char *ctl_credentials_login;

gboolean
ctl_credentials_get_login (char **login, GError **error)
{
  *login = NULL;
  if (ctl_credentials_login == NULL)
    return TRUE;

  *login = ctl_argument_to_utf8 (ctl_credentials_login, error);
  if (*login == NULL)
    return FALSE;

  /* The daemon would take it for an address and say that none was given. */
  if (**login == '\0')
    {
      g_clear_pointer (login, g_free);
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           _("--login takes the address to sign in with"));
      return FALSE;
    }

  return TRUE;
}

const char *
ctl_credentials_problem (void)
{
  if (!ctl_credentials_from_stdin && !isatty (STDIN_FILENO))
    return _("Standard input is not a terminal, so the password cannot be "
             "asked for. To read it from standard input, use "
             "--password-stdin.");

  return NULL;
}

/* Asks on the terminal, naming the kind of password the provider wants.
 * Returns: as ctl_password_read_terminal(). */
static char *
ask_password (CtlClient *client, const char *address, const char *login,
              gboolean check_login, DBusError *error)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) settings = NULL;
  g_autofree char *prompt = NULL;
  const char *kind;

  reply = ctl_client_call (client, CTL_MANAGER_PATH, CTL_MANAGER_INTERFACE,
                           "LookupProvider", g_variant_new ("(s)", address),
                           G_VARIANT_TYPE ("(a{sv})"), error);
  if (reply == NULL)
    return NULL;

  settings = g_variant_get_child_value (reply, 0);

  /* The daemon would refuse it too, once the password is typed. */
  if (check_login && login == NULL
      && ctl_settings_login_required (settings))
    {
      g_autofree char *text = ctl_settings_login_text (settings);

      dbus_set_error (error, ms_error_dbus_name (MS_ERROR_INVALID_ADDRESS),
                      "%s", text);
      return NULL;
    }

  if (login != NULL)
    address = login;
  else if (ctl_settings_lookup_string (settings, "address") != NULL)
    address = ctl_settings_lookup_string (settings, "address");
  kind = ctl_settings_lookup_string (settings, "password-kind");

  if (g_strcmp0 (kind, "app-specific") == 0)
    /* Translators: %s is a mail address */
    prompt = g_strdup_printf (_("Password for %s (an app-specific "
                                "password): "), address);
  else
    prompt = g_strdup_printf (_("Password for %s: "), address);

  return ctl_password_read_terminal (prompt, error);
}

char *
ctl_credentials_get (CtlClient *client,
                     const char *address,
                     const char *login,
                     gboolean check_login,
                     DBusError *error)
{
  if (ctl_credentials_from_stdin)
    return ctl_password_read_line (STDIN_FILENO, error);

  return ask_password (client, address, login, check_login, error);
}

GVariant *
ctl_credentials_call (CtlClient *client,
                      const char *path,
                      const char *interface,
                      const char *method,
                      const char *address,
                      char *password,
                      GVariant *options,
                      int timeout_ms,
                      const GVariantType *reply_type,
                      DBusError *error)
{
  GVariant *reply;
  DBusMessageIter iter;
  DBusMessage *message;
  gboolean appended;

  /* The password goes from its buffer into the message directly: through
   * a GVariant it would leave copies that cannot be wiped. */
  message = ctl_client_new_call (path, interface, method);
  dbus_message_iter_init_append (message, &iter);
  appended = (address == NULL
              || dbus_message_iter_append_basic (&iter, DBUS_TYPE_STRING,
                                                 &address))
             && dbus_message_iter_append_basic (&iter, DBUS_TYPE_STRING,
                                                &password)
             && (options == NULL || bus_variant_append (&iter, options));
  ctl_password_free (password);
  if (!appended)
    g_error ("Out of memory");

  reply = ctl_client_send (client, message, timeout_ms, reply_type, error);

  /* The message's copy of the password lives in libdbus's own buffers,
   * which libdbus frees without wiping and offers no way to wipe; letting
   * go of the message as soon as the reply is in is all we can do. */
  dbus_message_unref (message);

  return reply;
}
