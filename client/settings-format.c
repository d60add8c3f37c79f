/* settings-format.c: mail settings as text for people
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "settings-format.h"

#include <glib/gi18n.h>

guint
ctl_display_width (const char *str)
{
  guint width = 0;

  for (const char *p = str; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_iszerowidth (c))
        continue;
      width += g_unichar_iswide (c) ? 2 : 1;
    }

  return width;
}

static void
append_spaces (GString *out, guint n)
{
  for (guint i = 0; i < n; i++)
    g_string_append_c (out, ' ');
}

void
ctl_format_field (GString *out, guint indent, const char *label,
                  const char *value)
{
  guint used = indent + ctl_display_width (label);

  append_spaces (out, indent);
  g_string_append (out, label);
  if (value != NULL && *value != '\0')
    {
      /* A translated label may be wider than the column; keep one space. */
      append_spaces (out, used < CTL_FORMAT_VALUE_COLUMN
                          ? CTL_FORMAT_VALUE_COLUMN - used : 1);
      g_string_append (out, value);
    }
  g_string_append_c (out, '\n');
}

void
ctl_append_padded (GString *out, const char *text, guint width)
{
  guint used = ctl_display_width (text);

  g_string_append (out, text);
  if (used < width)
    append_spaces (out, width - used);
}

const char *
ctl_settings_lookup_string (GVariant *settings, const char *key)
{
  const char *value = NULL;

  if (!g_variant_lookup (settings, key, "&s", &value) || *value == '\0')
    return NULL;

  return value;
}

gboolean
ctl_settings_login_required (GVariant *settings)
{
  gboolean required = FALSE;

  return g_variant_lookup (settings, "login-required", "b", &required)
         && required;
}

/* The provider's name for people, e.g. "iCloud Mail" (transfer none). */
static const char *
provider_name (GVariant *settings)
{
  const char *name = ctl_settings_lookup_string (settings, "display-name");

  if (name == NULL)
    name = ctl_settings_lookup_string (settings, "provider");

  return name != NULL ? name : "?";
}

char *
ctl_settings_login_text (GVariant *settings)
{
  const char *address = ctl_settings_lookup_string (settings, "address");
  const char *name = provider_name (settings);

  if (!ctl_settings_login_required (settings))
    return NULL;
  if (address == NULL)
    address = "?";

  /* Translators: the first and the last %s are a mail address at the
   * person's own domain, e.g. jane@example.org; the two others the
   * provider's name, e.g. "iCloud Mail".  --login=LOGIN is the option of
   * mailsetupctl, as in its --help. */
  return g_strdup_printf (_("%s is at your own domain, served by %s: sign in "
                            "with your own %s address (for iCloud+, your "
                            "primary iCloud address), given with "
                            "--login=LOGIN. %s stays the From address."),
                          address, name, name, address);
}

/* What the "User name:" lines say for an address that signs in with a
 * login not known yet (transfer full). */
static char *
format_login_username (GVariant *settings)
{
  /* Translators: a user name, for an address at the person's own
   * domain; %s is the provider's name, e.g. "iCloud Mail". */
  return g_strdup_printf (_("your own %s address"), provider_name (settings));
}

guint
ctl_settings_lookup_port (GVariant *settings, const char *key)
{
  guint16 port = 0;

  if (!g_variant_lookup (settings, key, "q", &port))
    return 0;

  return port;
}

const char *
ctl_security_label (const char *security)
{
  if (g_strcmp0 (security, "tls") == 0)
    return _("SSL/TLS");
  if (g_strcmp0 (security, "starttls") == 0)
    return _("STARTTLS");

  return security;
}

char *
ctl_format_port (guint port, const char *security)
{
  const char *label = ctl_security_label (security);

  if (port != 0 && label != NULL)
    return g_strdup_printf (_("%u, %s"), port, label);
  if (port != 0)
    return g_strdup_printf ("%u", port);

  return g_strdup (label);
}

gboolean
ctl_format_endpoint (GString *out, const char *heading, GVariant *values,
                     const char *host_key, const char *port_key,
                     const char *security_key)
{
  const char *host = ctl_settings_lookup_string (values, host_key);
  guint port = ctl_settings_lookup_port (values, port_key);
  g_autofree char *port_text =
    ctl_format_port (port, ctl_settings_lookup_string (values, security_key));

  if (host == NULL && port_text == NULL)
    return FALSE;

  g_string_append_printf (out, "\n%s\n", heading);
  if (host != NULL)
    ctl_format_field (out, 2, _("Server:"), host);
  if (port_text != NULL)
    ctl_format_field (out, 2, _("Port:"), port_text);

  return TRUE;
}

static void
append_imap_username (GString *out, GVariant *settings)
{
  const char *username = ctl_settings_lookup_string (settings, "imap-username");
  g_autofree const char **candidates = NULL;
  g_autoptr(GPtrArray) others = g_ptr_array_new ();
  g_autofree char *others_text = NULL;
  g_autofree char *text = NULL;

  /* The candidates are made from the address, which is not the one to
   * sign in with. */
  if (ctl_settings_login_required (settings))
    {
      text = format_login_username (settings);
      ctl_format_field (out, 2, _("User name:"), text);
      return;
    }

  /* The first candidate is the one the daemon tries first; the rest are
   * what to type if the server refuses it. */
  if (g_variant_lookup (settings, "imap-username-candidates", "^a&s",
                        &candidates))
    {
      for (gsize i = 0; candidates[i] != NULL; i++)
        {
          if (*candidates[i] == '\0')
            continue;
          if (username == NULL)
            username = candidates[i];
          else if (g_strcmp0 (candidates[i], username) != 0)
            g_ptr_array_add (others, (gpointer) candidates[i]);
        }
    }

  if (username == NULL)
    return;

  if (others->len == 0)
    {
      ctl_format_field (out, 2, _("User name:"), username);
      return;
    }

  g_ptr_array_add (others, NULL);
  /* Translators: separates user names to try one after the other. */
  others_text = g_strjoinv (_(", then "), (char **) others->pdata);
  /* Translators: a user name, then the ones to try if a server refuses it. */
  text = g_strdup_printf (_("%s  (if that is refused: %s)"), username,
                          others_text);
  ctl_format_field (out, 2, _("User name:"), text);
}

/* One smtp-alternatives entry, e.g. "port 465, SSL/TLS", naming the host
 * and user name only where they differ from the main ones, and no user
 * name when @login_required (transfer full), or NULL if it holds nothing
 * to show. */
static char *
format_alternative (GVariant *alternative, const char *main_host,
                    const char *main_username, gboolean login_required)
{
  const char *host = ctl_settings_lookup_string (alternative, "host");
  guint port = ctl_settings_lookup_port (alternative, "port");
  const char *security =
    ctl_security_label (ctl_settings_lookup_string (alternative, "security"));
  const char *username = ctl_settings_lookup_string (alternative, "username");
  g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func (g_free);

  if (host != NULL && g_strcmp0 (host, main_host) != 0)
    g_ptr_array_add (parts, g_strdup (host));
  if (port != 0)
    g_ptr_array_add (parts, g_strdup_printf (_("port %u"), port));
  if (security != NULL)
    g_ptr_array_add (parts, g_strdup (security));
  if (username != NULL && !login_required
      && g_strcmp0 (username, main_username) != 0)
    g_ptr_array_add (parts, g_strdup_printf (_("user name %s"), username));

  if (parts->len == 0)
    return NULL;

  g_ptr_array_add (parts, NULL);
  return g_strjoinv (", ", (char **) parts->pdata);
}

static void
append_smtp_extras (GString *out, GVariant *settings)
{
  const char *host = ctl_settings_lookup_string (settings, "smtp-host");
  const char *username = ctl_settings_lookup_string (settings, "smtp-username");
  gboolean login_required = ctl_settings_login_required (settings);
  g_autoptr(GVariant) alternatives = NULL;
  guint64 max_size = 0;
  guint shown = 0;

  if (login_required)
    {
      g_autofree char *text = format_login_username (settings);

      ctl_format_field (out, 2, _("User name:"), text);
    }
  else if (username != NULL)
    {
      ctl_format_field (out, 2, _("User name:"), username);
    }

  alternatives = g_variant_lookup_value (settings, "smtp-alternatives",
                                         G_VARIANT_TYPE ("aa{sv}"));
  if (alternatives != NULL)
    {
      gsize n = g_variant_n_children (alternatives);

      for (gsize i = 0; i < n; i++)
        {
          g_autoptr(GVariant) alternative =
            g_variant_get_child_value (alternatives, i);
          g_autofree char *text = format_alternative (alternative, host,
                                                      username,
                                                      login_required);

          if (text == NULL)
            continue;
          ctl_format_field (out, 2, shown == 0 ? _("Otherwise:") : _("Or:"),
                            text);
          shown++;
        }
    }

  if (g_variant_lookup (settings, "smtp-max-message-size", "t", &max_size)
      && max_size > 0)
    {
      g_autofree char *text = ctl_format_size_limit (max_size);

      ctl_format_field (out, 2, _("Size limit:"), text);
    }
}

static void
append_password (GString *out, GVariant *settings)
{
  const char *kind = ctl_settings_lookup_string (settings, "password-kind");
  const char *hint = ctl_settings_lookup_string (settings, "password-hint");
  const char *url = ctl_settings_lookup_string (settings, "password-url");
  const char *kind_text = kind;

  if (kind == NULL && hint == NULL && url == NULL)
    return;

  if (g_strcmp0 (kind, "app-specific") == 0)
    kind_text = _("an app-specific password");

  ctl_format_field (out, 0, _("Password:"), kind_text);
  if (hint != NULL)
    ctl_text_wrap (out, hint, 2, CTL_FORMAT_WRAP_WIDTH);
  if (url != NULL)
    ctl_format_field (out, 2, _("Create one:"), url);
}

static void
append_title (GString *out, GVariant *settings)
{
  const char *name = ctl_settings_lookup_string (settings, "display-name");
  const char *address = ctl_settings_lookup_string (settings, "address");

  if (name == NULL)
    name = ctl_settings_lookup_string (settings, "provider");

  /* Translators: "iCloud Mail settings for jane@icloud.com" */
  if (name != NULL && address != NULL)
    g_string_append_printf (out, _("%s settings for %s"), name, address);
  else if (name != NULL)
    g_string_append_printf (out, _("%s settings"), name);
  else if (address != NULL)
    g_string_append_printf (out, _("Mail settings for %s"), address);
  else
    g_string_append (out, _("Mail settings"));
  g_string_append_c (out, '\n');
}

void
ctl_settings_format (GString *out, GVariant *settings)
{
  const char *documentation =
    ctl_settings_lookup_string (settings, "documentation-url");
  g_autofree char *login_text = NULL;
  gsize before_tail;

  g_return_if_fail (g_variant_is_of_type (settings, G_VARIANT_TYPE_VARDICT));

  append_title (out, settings);
  login_text = ctl_settings_login_text (settings);
  if (login_text != NULL)
    {
      g_string_append_c (out, '\n');
      ctl_text_wrap (out, login_text, 0, CTL_FORMAT_WRAP_WIDTH);
    }

  if (ctl_format_endpoint (out, _("Incoming mail (IMAP)"), settings,
                           "imap-host", "imap-port", "imap-security"))
    append_imap_username (out, settings);
  if (ctl_format_endpoint (out, _("Outgoing mail (SMTP)"), settings,
                           "smtp-host", "smtp-port", "smtp-security"))
    append_smtp_extras (out, settings);

  /* The password and help lines form one block after a blank line. */
  g_string_append_c (out, '\n');
  before_tail = out->len;
  append_password (out, settings);
  if (documentation != NULL)
    ctl_format_field (out, 0, _("More help:"), documentation);
  if (out->len == before_tail)
    g_string_truncate (out, before_tail - 1);
}

char *
ctl_format_size_limit (guint64 bytes)
{
  g_autofree char *size = g_format_size_full (bytes, G_FORMAT_SIZE_IEC_UNITS);

  /* Translators: %s is a size such as "20.0 MiB". */
  return g_strdup_printf (_("%s per message"), size);
}

void
ctl_text_wrap (GString *out, const char *text, guint indent, guint width)
{
  const char *p = text;
  guint column = 0;
  gboolean line_open = FALSE;

  while (*p != '\0')
    {
      gboolean space = FALSE;
      guint newlines = 0;
      const char *start;
      guint token_width = 0;
      gunichar c;

      for (; *p != '\0'; p = g_utf8_next_char (p))
        {
          c = g_utf8_get_char (p);
          if (!g_unichar_isspace (c))
            break;
          space = TRUE;
          if (c == '\n')
            newlines++;
        }
      if (*p == '\0')
        break;

      /* A blank line in the text starts a new paragraph; single line
       * breaks are just spaces, as in the XML the text came from. */
      if (newlines >= 2 && line_open)
        {
          g_string_append (out, "\n\n");
          line_open = FALSE;
        }

      /* A token is one wide character (CJK text breaks between any two) or
       * a run of narrow non-space characters. */
      start = p;
      c = g_utf8_get_char (p);
      if (g_unichar_iswide (c))
        {
          p = g_utf8_next_char (p);
          token_width = 2;
        }
      else
        {
          for (; *p != '\0'; p = g_utf8_next_char (p))
            {
              c = g_utf8_get_char (p);
              if (g_unichar_isspace (c) || g_unichar_iswide (c))
                break;
              if (!g_unichar_iszerowidth (c))
                token_width++;
            }
        }

      if (line_open && column + (space ? 1 : 0) + token_width > width)
        {
          g_string_append_c (out, '\n');
          line_open = FALSE;
        }

      if (!line_open)
        {
          append_spaces (out, indent);
          column = indent;
          line_open = TRUE;
        }
      else if (space)
        {
          g_string_append_c (out, ' ');
          column++;
        }

      g_string_append_len (out, start, p - start);
      column += token_width;
    }

  if (line_open)
    g_string_append_c (out, '\n');
}

void
ctl_text_wrap_lines (GString *out, const char *text, guint indent,
                     guint width)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

  for (gsize i = 0; lines[i] != NULL; i++)
    {
      /* A blank line stays one; ctl_text_wrap() would drop it. */
      if (*g_strstrip (lines[i]) == '\0')
        g_string_append_c (out, '\n');
      else
        ctl_text_wrap (out, lines[i], indent, width);
    }
}
