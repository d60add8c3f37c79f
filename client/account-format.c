/* account-format.c: an account for people, or as JSON
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "account-format.h"

#include <glib/gi18n.h>
#include <string.h>

#include "settings-format.h"

const char *
ctl_account_status_label (const char *status)
{
  static const struct {
    const char *status;
    const char *label;
  } labels[] = {
    { "unchecked", N_("not checked yet") },
    { "checking", N_("being checked") },
    { "ok", N_("working") },
    { "auth-failed", N_("password refused") },
    { "unreachable", N_("servers unreachable") },
    { "needs-password", N_("no password stored") },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (labels); i++)
    if (g_strcmp0 (status, labels[i].status) == 0)
      return _(labels[i].label);

  return status != NULL ? status : "";
}

static void
append_status (GString *out, GVariant *properties)
{
  const char *status = ctl_settings_lookup_string (properties, "Status");
  const char *message = ctl_settings_lookup_string (properties,
                                                    "StatusMessage");
  guint64 last_checked = 0;
  g_autofree char *when = NULL;

  if (status != NULL)
    ctl_format_field (out, 0, _("Status:"), ctl_account_status_label (status));
  if (message != NULL)
    ctl_text_wrap_lines (out, message, CTL_FORMAT_VALUE_COLUMN,
                         CTL_FORMAT_WRAP_WIDTH);

  if (!g_variant_lookup (properties, "LastChecked", "t", &last_checked))
    return;

  if (last_checked > 0 && last_checked <= G_MAXINT64)
    {
      g_autoptr(GDateTime) time =
        g_date_time_new_from_unix_local ((gint64) last_checked);

      if (time != NULL)
        when = g_date_time_format (time, "%Y-%m-%d %H:%M:%S");
    }
  ctl_format_field (out, 0, _("Last checked:"), when != NULL ? when
                                                             : _("never"));
}

/* @word as a shell word: as it is when the shell would take it so, which
 * addresses and ids are, else quoted (transfer full). */
static char *
shell_word (const char *word)
{
  static const char safe[] = "abcdefghijklmnopqrstuvwxyz"
                             "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                             "0123456789@%+=:,./_-";

  if (*word != '\0' && strspn (word, safe) == strlen (word))
    return g_strdup (word);

  return g_shell_quote (word);
}

/* The secret-tool command line that prints the password, from
 * SecretAttributes (transfer full), or NULL without them. */
static char *
format_secret_tool (GVariant *properties)
{
  /* The attributes that single the password out; xdg:schema is implied by
   * them and left out, as people type the command. */
  static const char * const keys[] = { "address", "account-id" };
  g_autoptr(GVariant) attributes =
    g_variant_lookup_value (properties, "SecretAttributes",
                            G_VARIANT_TYPE ("a{ss}"));
  g_autoptr(GString) command = g_string_new ("secret-tool lookup");

  if (attributes == NULL)
    return NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      const char *value = NULL;
      g_autofree char *word = NULL;

      if (!g_variant_lookup (attributes, keys[i], "&s", &value))
        return NULL;
      word = shell_word (value);
      g_string_append_printf (command, " %s %s", keys[i], word);
    }

  return g_string_free (g_steal_pointer (&command), FALSE);
}

/* Where the password is, and how to read it, or how to set it. */
static void
append_password (GString *out, GVariant *properties)
{
  const char *status = ctl_settings_lookup_string (properties, "Status");
  const char *address = ctl_settings_lookup_string (properties, "Address");
  g_autofree char *secret_tool = format_secret_tool (properties);

  if (g_strcmp0 (status, "needs-password") == 0 && address != NULL)
    {
      g_autofree char *word = shell_word (address);
      g_autofree char *command = g_strdup_printf ("mailsetupctl passwd %s",
                                                  word);

      g_string_append_c (out, '\n');
      ctl_format_field (out, 0, _("Password:"),
                        _("none stored; to set it:"));
      ctl_format_field (out, 2, command, NULL);
    }
  else if (secret_tool != NULL)
    {
      g_string_append_c (out, '\n');
      ctl_format_field (out, 0, _("Password:"),
                        _("in the keyring; to print it:"));
      ctl_format_field (out, 2, secret_tool, NULL);
    }
}

void
ctl_account_format (GString *out, GVariant *properties)
{
  const char *address = ctl_settings_lookup_string (properties, "Address");
  const char *name = ctl_settings_lookup_string (properties, "DisplayName");
  const char *provider = ctl_settings_lookup_string (properties, "Provider");
  const char *id = ctl_settings_lookup_string (properties, "Id");
  const char *imap_username =
    ctl_settings_lookup_string (properties, "ImapUsername");
  const char *smtp_username =
    ctl_settings_lookup_string (properties, "SmtpUsername");

  g_return_if_fail (g_variant_is_of_type (properties, G_VARIANT_TYPE_VARDICT));

  if (address != NULL)
    ctl_format_field (out, 0, _("Account:"), address);
  if (name != NULL)
    ctl_format_field (out, 0, _("Display name:"), name);
  if (provider != NULL)
    ctl_format_field (out, 0, _("Provider:"), provider);
  append_status (out, properties);
  if (id != NULL)
    ctl_format_field (out, 0, _("Id:"), id);

  if (ctl_format_endpoint (out, _("Incoming mail (IMAP)"), properties,
                           "ImapHost", "ImapPort", "ImapSecurity")
      && imap_username != NULL)
    ctl_format_field (out, 2, _("User name:"), imap_username);
  if (ctl_format_endpoint (out, _("Outgoing mail (SMTP)"), properties,
                           "SmtpHost", "SmtpPort", "SmtpSecurity")
      && smtp_username != NULL)
    ctl_format_field (out, 2, _("User name:"), smtp_username);

  append_password (out, properties);
}

void
ctl_account_print (CtlClient *client, GVariant *properties)
{
  g_autoptr(GString) text = NULL;

  if (ctl_client_get_json (client))
    {
      ctl_print_json (properties);
      return;
    }

  text = g_string_new (NULL);
  ctl_account_format (text, properties);
  ctl_print_text (stdout, text->str);
}
