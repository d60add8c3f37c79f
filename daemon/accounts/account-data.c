/* account-data.c: what mailsetup keeps about one account
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "account-data.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <string.h>

MsAccountData *
ms_account_data_new (void)
{
  return g_new0 (MsAccountData, 1);
}

static MsEndpoint *
endpoint_copy (const MsEndpoint *endpoint)
{
  if (endpoint == NULL)
    return NULL;

  return ms_endpoint_new (endpoint->hostname, endpoint->port, endpoint->security,
                          endpoint->username_template);
}

MsAccountData *
ms_account_data_copy (const MsAccountData *data)
{
  MsAccountData *copy = ms_account_data_new ();

  copy->id = g_strdup (data->id);
  copy->address = g_strdup (data->address);
  copy->provider = g_strdup (data->provider);
  copy->display_name = g_strdup (data->display_name);
  copy->login = g_strdup (data->login);
  copy->imap = endpoint_copy (data->imap);
  copy->smtp = endpoint_copy (data->smtp);
  copy->smtp_max_message_size = data->smtp_max_message_size;
  copy->last_checked = data->last_checked;

  return copy;
}

void
ms_account_data_free (MsAccountData *data)
{
  if (data == NULL)
    return;

  g_free (data->id);
  g_free (data->address);
  g_free (data->provider);
  g_free (data->display_name);
  g_free (data->login);
  g_clear_pointer (&data->imap, ms_endpoint_free);
  g_clear_pointer (&data->smtp, ms_endpoint_free);
  g_free (data);
}

#define DISPLAY_NAME_MAX_LENGTH 256

gboolean
ms_account_display_name_check (const char *name,
                               GError **error)
{
  if (strlen (name) > DISPLAY_NAME_MAX_LENGTH)
    {
      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                   _("A display name can be at most %d bytes long."), DISPLAY_NAME_MAX_LENGTH);
      return FALSE;
    }

  for (const char *p = name; *p; p++)
    if ((guchar) *p < 0x20 || *p == 0x7f)
      {
        g_set_error_literal (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                             _("A display name cannot contain line breaks or other "
                               "control characters."));
        return FALSE;
      }

  return TRUE;
}

char *
ms_account_id_new (void)
{
  g_autofree char *uuid = g_uuid_string_random ();
  GString *id = g_string_sized_new (32);

  for (const char *p = uuid; *p; p++)
    if (*p != '-')
      g_string_append_c (id, *p);

  return g_string_free (id, FALSE);
}

const char *
ms_account_data_get_login (const MsAccountData *data)
{
  const char *username = data->imap != NULL ? data->imap->username_template : NULL;

  if (data->login != NULL)
    return data->login;

  /* A bare local part ("john") is one of the address's own user names. */
  if (username == NULL || strchr (username, '@') == NULL ||
      g_ascii_strcasecmp (username, data->address) == 0)
    return NULL;

  return username;
}
