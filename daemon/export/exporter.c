/* exporter.c: an account's settings as text for desktop mail programs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "exporter.h"

#include <glib/gi18n.h>
#include <string.h>

#include "export-private.h"
#include "secrets/secret-store.h"

typedef char *(*ExportFunc) (const MsAccountData *account,
                             MsProvider *provider);

typedef struct {
  const char *name;
  ExportFunc render;
} ExportFormat;

static const ExportFormat formats[] = {
  { "thunderbird", ms_export_thunderbird },
  { "msmtp", ms_export_msmtp },
  { "mbsync", ms_export_mbsync },
  { "neomutt", ms_export_neomutt },
  { "aerc", ms_export_aerc },
};

const char * const *
ms_export_text_formats (void)
{
  static const char *names[G_N_ELEMENTS (formats) + 1];
  static gsize initialized = 0;

  if (g_once_init_enter (&initialized))
    {
      for (gsize i = 0; i < G_N_ELEMENTS (formats); i++)
        names[i] = formats[i].name;
      g_once_init_leave (&initialized, 1);
    }

  return names;
}

static const ExportFormat *
find_format (const char *name)
{
  if (name == NULL)
    return NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (formats); i++)
    if (strcmp (formats[i].name, name) == 0)
      return &formats[i];

  return NULL;
}

gboolean
ms_export_is_text_format (const char *format)
{
  return find_format (format) != NULL;
}

char *
ms_export_password_command (const MsAccountData *account)
{
  g_autofree char *address = ms_export_shell_word (account->address);
  g_autofree char *id = ms_export_shell_word (account->id);

  return g_strdup_printf ("secret-tool lookup xdg:schema %s address %s account-id %s",
                          MS_SECRET_SCHEMA_NAME, address, id);
}

/* Whether @text can go into any of the formats: one line of text. */
static gboolean
is_one_line (const char *text)
{
  for (const char *p = text; *p != '\0'; p++)
    if ((guchar) *p < 0x20 || *p == 0x7f)
      return FALSE;

  return g_utf8_validate (text, -1, NULL);
}

/* Host names go into URLs and configuration files unquoted. */
static gboolean
is_host_name (const char *host)
{
  if (host == NULL || host[0] == '\0')
    return FALSE;

  for (const char *p = host; *p != '\0'; p++)
    if ((guchar) *p < 0x80 && !g_ascii_isalnum (*p) && strchr (".-_:", *p) == NULL)
      return FALSE;

  return g_utf8_validate (host, -1, NULL);
}

static gboolean
invalid_account (GError **error,
                 const char *address,
                 const char *problem)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               /* Translators: the first %s is an address, the second
                * says what is wrong, e.g. "its IMAP server has no name". */
               _("The settings of %s cannot be exported: %s"),
               address != NULL && is_one_line (address) ? address : _("this account"),
               problem);
  return FALSE;
}

static gboolean
check_endpoint (const MsAccountData *account,
                const MsEndpoint *endpoint,
                const char *protocol,
                GError **error)
{
  g_autofree char *problem = NULL;

  if (endpoint == NULL)
    /* Translators: %s is IMAP or SMTP. */
    problem = g_strdup_printf (_("it has no %s server."), protocol);
  else if (!is_host_name (endpoint->hostname))
    problem = g_strdup_printf (_("the name of its %s server is not a host name."), protocol);
  else if (endpoint->port == 0)
    problem = g_strdup_printf (_("its %s server has no port."), protocol);
  else if (endpoint->username_template == NULL || endpoint->username_template[0] == '\0'
           || !is_one_line (endpoint->username_template))
    problem = g_strdup_printf (_("its %s user name is empty or holds control characters."),
                               protocol);
  else
    return TRUE;

  return invalid_account (error, account->address, problem);
}

static gboolean
check_account (const MsAccountData *account,
               GError **error)
{
  if (account->address == NULL || strchr (account->address, '@') == NULL
      || !is_one_line (account->address))
    return invalid_account (error, account->address,
                            _("its address is missing or malformed."));
  if (account->id == NULL || account->id[0] == '\0' || !is_one_line (account->id))
    return invalid_account (error, account->address,
                            _("its id is missing or malformed."));
  if (account->display_name != NULL && !is_one_line (account->display_name))
    return invalid_account (error, account->address,
                            _("its display name holds control characters."));
  if (account->provider != NULL && !is_one_line (account->provider))
    return invalid_account (error, account->address,
                            _("its provider name holds control characters."));

  return check_endpoint (account, account->imap, "IMAP", error)
         && check_endpoint (account, account->smtp, "SMTP", error);
}

char *
ms_export_render (const char *format,
                  const MsAccountData *account,
                  MsProvider *provider,
                  GError **error)
{
  const ExportFormat *found;

  g_return_val_if_fail (account != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  found = find_format (format);
  if (found == NULL)
    {
      g_autofree char *known = g_strjoinv (", ", (char **) ms_export_text_formats ());
      g_autofree char *shown = format != NULL && is_one_line (format)
                                 ? g_strdup (format) : g_strdup ("");

      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                   /* Translators: the first %s is what was asked for, the
                    * second a list such as "thunderbird, msmtp, mbsync". */
                   _("There is no export format “%s”. The formats are: %s."),
                   shown, known);
      return NULL;
    }

  if (!check_account (account, error))
    return NULL;

  return found->render (account, provider);
}
