/* provider-parser.c: reading ISPDB clientConfig v1.1 files with GMarkup
 *
 * The format is Mozilla's (https://wiki.mozilla.org/Thunderbird:Autoconfiguration:ConfigFileFormat).
 * We read the parts a password-based IMAP + SMTP account needs and skip
 * the rest, so a file written for Thunderbird works unchanged.
 *
 * GMarkup knows nothing of XML namespaces, so a small scope stack of
 * xmlns declarations resolves element prefixes here: mailsetup's own
 * elements are those whose namespace is MS_PROVIDER_NAMESPACE, whatever
 * prefix a file binds it to.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "provider-parser.h"

#include <glib/gi18n.h>
#include <string.h>

#define XML_NAMESPACE "http://www.w3.org/XML/1998/namespace"

typedef enum {
  ELEMENT_IGNORED, /* unknown, foreign or unused: its subtree is skipped */
  ELEMENT_CLIENT_CONFIG,
  ELEMENT_EMAIL_PROVIDER,
  ELEMENT_DOMAIN,
  ELEMENT_DISPLAY_NAME,
  ELEMENT_DISPLAY_SHORT_NAME,
  ELEMENT_INCOMING_SERVER, /* type="imap" only */
  ELEMENT_OUTGOING_SERVER, /* type="smtp" only */
  ELEMENT_HOSTNAME,
  ELEMENT_PORT,
  ELEMENT_SOCKET_TYPE,
  ELEMENT_USERNAME,
  ELEMENT_AUTHENTICATION,
  ELEMENT_DOCUMENTATION,
  ELEMENT_USERNAME_CANDIDATE, /* ours */
  ELEMENT_PASSWORD,           /* ours */
  ELEMENT_PASSWORD_HINT,      /* ours */
  ELEMENT_PASSWORD_URL,       /* ours */
  ELEMENT_STATUS_PAGE,        /* ours */
  ELEMENT_MX_DOMAIN,          /* ours */
} ElementKind;

typedef struct {
  ElementKind kind;
  guint n_bindings; /* xmlns declarations made on this element */
} Frame;

typedef struct {
  char *prefix; /* "" for the default namespace */
  char *uri;    /* "" when the default namespace is undeclared */
} Binding;

/* One incomingServer or outgoingServer as read, checked at its end tag. */
typedef struct {
  int line;
  char *hostname;
  char *port;
  char *socket_type;
  char *username;
  guint n_methods;          /* authentication elements */
  guint n_password_methods; /* those that take a password */
} Server;

typedef struct {
  const char *source_name;
  GArray *frames;      /* of Frame, the open elements */
  GPtrArray *bindings; /* of Binding*, innermost last */
  GString *text;       /* text of the open text-only element */
  MsProvider *provider; /* of the first emailProvider */
  int provider_line;
  Server server;
  /* Set when a callback made the error, which then already names the
   * file and line; GMarkup's own errors name only the line. */
  gboolean error_is_ours;
} ParseState;

static void
binding_free (Binding *binding)
{
  g_free (binding->prefix);
  g_free (binding->uri);
  g_free (binding);
}

static void
server_clear (Server *server)
{
  g_clear_pointer (&server->hostname, g_free);
  g_clear_pointer (&server->port, g_free);
  g_clear_pointer (&server->socket_type, g_free);
  g_clear_pointer (&server->username, g_free);
  server->n_methods = 0;
  server->n_password_methods = 0;
  server->line = 0;
}

/* The line of the tag just read.  GMarkup reports its position up to one
 * character past the '>'; when that character was the line break, the
 * tag is on the line before. */
static int
tag_line (GMarkupParseContext *context)
{
  int line = 0;
  int column = 0;

  g_markup_parse_context_get_position (context, &line, &column);
  return column <= 1 && line > 1 ? line - 1 : line;
}

G_GNUC_PRINTF (4, 5)
static gboolean
fail (ParseState *state,
      int line,
      GError **error,
      const char *format,
      ...)
{
  g_autofree char *problem = NULL;
  va_list args;

  va_start (args, format);
  problem = g_strdup_vprintf (format, args);
  va_end (args);

  g_set_error (error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
               "%s:%d: %s", state->source_name, line, problem);
  state->error_is_ours = TRUE;
  return FALSE;
}

/* The namespace URI bound to @prefix ("" for the default namespace), or
 * NULL for none. */
static const char *
resolve_prefix (ParseState *state,
                const char *prefix)
{
  if (strcmp (prefix, "xml") == 0)
    return XML_NAMESPACE;

  for (guint i = state->bindings->len; i > 0; i--)
    {
      Binding *binding = g_ptr_array_index (state->bindings, i - 1);

      if (strcmp (binding->prefix, prefix) == 0)
        return binding->uri[0] != '\0' ? binding->uri : NULL;
    }

  return NULL;
}

/* Pushes the xmlns declarations among @names; returns how many. */
static guint
push_bindings (ParseState *state,
               const char **names,
               const char **values)
{
  guint n = 0;

  for (guint i = 0; names[i] != NULL; i++)
    {
      Binding *binding;

      if (strcmp (names[i], "xmlns") == 0)
        {
          binding = g_new0 (Binding, 1);
          binding->prefix = g_strdup ("");
        }
      else if (g_str_has_prefix (names[i], "xmlns:"))
        {
          binding = g_new0 (Binding, 1);
          binding->prefix = g_strdup (names[i] + strlen ("xmlns:"));
        }
      else
        continue;

      binding->uri = g_strdup (values[i]);
      g_ptr_array_add (state->bindings, binding);
      n++;
    }

  return n;
}

/* The value of the unqualified attribute @name, or NULL. */
static const char *
get_attribute (const char **names,
               const char **values,
               const char *name)
{
  for (guint i = 0; names[i] != NULL; i++)
    if (strcmp (names[i], name) == 0)
      return values[i];

  return NULL;
}

static ElementKind
classify (ElementKind parent,
          const char *ns,
          const char *local,
          const char **names,
          const char **values)
{
  gboolean ours = g_strcmp0 (ns, MS_PROVIDER_NAMESPACE) == 0;
  gboolean ispdb = ns == NULL;
  const char *type;

  switch (parent)
    {
    case ELEMENT_CLIENT_CONFIG:
      if (ispdb && strcmp (local, "emailProvider") == 0)
        return ELEMENT_EMAIL_PROVIDER;
      break;

    case ELEMENT_EMAIL_PROVIDER:
      if (ispdb && strcmp (local, "domain") == 0)
        return ELEMENT_DOMAIN;
      if (ispdb && strcmp (local, "displayName") == 0)
        return ELEMENT_DISPLAY_NAME;
      if (ispdb && strcmp (local, "displayShortName") == 0)
        return ELEMENT_DISPLAY_SHORT_NAME;
      if (ispdb && strcmp (local, "documentation") == 0)
        return ELEMENT_DOCUMENTATION;
      /* POP3, Exchange and the like are of no use to us. */
      type = get_attribute (names, values, "type");
      if (ispdb && strcmp (local, "incomingServer") == 0
          && g_strcmp0 (type, "imap") == 0)
        return ELEMENT_INCOMING_SERVER;
      if (ispdb && strcmp (local, "outgoingServer") == 0
          && g_strcmp0 (type, "smtp") == 0)
        return ELEMENT_OUTGOING_SERVER;
      if (ours && strcmp (local, "password") == 0)
        return ELEMENT_PASSWORD;
      if (ours && strcmp (local, "statusPage") == 0)
        return ELEMENT_STATUS_PAGE;
      if (ours && strcmp (local, "mxDomain") == 0)
        return ELEMENT_MX_DOMAIN;
      break;

    case ELEMENT_INCOMING_SERVER:
      if (ours && strcmp (local, "usernameCandidate") == 0)
        return ELEMENT_USERNAME_CANDIDATE;
      G_GNUC_FALLTHROUGH;
    case ELEMENT_OUTGOING_SERVER:
      if (ispdb && strcmp (local, "hostname") == 0)
        return ELEMENT_HOSTNAME;
      if (ispdb && strcmp (local, "port") == 0)
        return ELEMENT_PORT;
      if (ispdb && strcmp (local, "socketType") == 0)
        return ELEMENT_SOCKET_TYPE;
      if (ispdb && strcmp (local, "username") == 0)
        return ELEMENT_USERNAME;
      if (ispdb && strcmp (local, "authentication") == 0)
        return ELEMENT_AUTHENTICATION;
      break;

    case ELEMENT_PASSWORD:
      if (ours && strcmp (local, "hint") == 0)
        return ELEMENT_PASSWORD_HINT;
      if (ours && strcmp (local, "url") == 0)
        return ELEMENT_PASSWORD_URL;
      break;

    case ELEMENT_IGNORED:
    case ELEMENT_DOMAIN:
    case ELEMENT_DISPLAY_NAME:
    case ELEMENT_DISPLAY_SHORT_NAME:
    case ELEMENT_HOSTNAME:
    case ELEMENT_PORT:
    case ELEMENT_SOCKET_TYPE:
    case ELEMENT_USERNAME:
    case ELEMENT_AUTHENTICATION:
    case ELEMENT_DOCUMENTATION:
    case ELEMENT_USERNAME_CANDIDATE:
    case ELEMENT_PASSWORD_HINT:
    case ELEMENT_PASSWORD_URL:
    case ELEMENT_STATUS_PAGE:
    case ELEMENT_MX_DOMAIN:
      break;
    }

  return ELEMENT_IGNORED;
}

static gboolean
takes_text (ElementKind kind)
{
  switch (kind)
    {
    case ELEMENT_DOMAIN:
    case ELEMENT_DISPLAY_NAME:
    case ELEMENT_DISPLAY_SHORT_NAME:
    case ELEMENT_HOSTNAME:
    case ELEMENT_PORT:
    case ELEMENT_SOCKET_TYPE:
    case ELEMENT_USERNAME:
    case ELEMENT_AUTHENTICATION:
    case ELEMENT_USERNAME_CANDIDATE:
    case ELEMENT_PASSWORD_HINT:
    case ELEMENT_PASSWORD_URL:
    case ELEMENT_STATUS_PAGE:
    case ELEMENT_MX_DOMAIN:
      return TRUE;
    case ELEMENT_IGNORED:
    case ELEMENT_CLIENT_CONFIG:
    case ELEMENT_EMAIL_PROVIDER:
    case ELEMENT_INCOMING_SERVER:
    case ELEMENT_OUTGOING_SERVER:
    case ELEMENT_DOCUMENTATION:
    case ELEMENT_PASSWORD:
      return FALSE;
    }

  g_return_val_if_reached (FALSE);
}

static void
on_start_element (GMarkupParseContext *context,
                  const char *element_name,
                  const char **names,
                  const char **values,
                  gpointer user_data,
                  GError **error)
{
  ParseState *state = user_data;
  Frame frame = { ELEMENT_IGNORED, 0 };
  g_autofree char *prefix = NULL;
  const char *local;
  const char *colon;
  const char *ns;

  /* Declarations on an element already apply to its own name. */
  frame.n_bindings = push_bindings (state, names, values);

  colon = strchr (element_name, ':');
  if (colon != NULL)
    {
      prefix = g_strndup (element_name, colon - element_name);
      local = colon + 1;
      ns = resolve_prefix (state, prefix);
      if (ns == NULL)
        {
          fail (state, tag_line (context), error,
                "the prefix “%s” of <%s> is not declared",
                prefix, element_name);
          return;
        }
    }
  else
    {
      local = element_name;
      ns = resolve_prefix (state, "");
    }

  if (state->frames->len == 0)
    {
      if (ns != NULL || strcmp (local, "clientConfig") != 0)
        {
          fail (state, tag_line (context), error,
                "this is not an ISPDB clientConfig file: it starts with <%s>",
                element_name);
          return;
        }
      frame.kind = ELEMENT_CLIENT_CONFIG;
    }
  else
    {
      Frame *parent = &g_array_index (state->frames, Frame,
                                      state->frames->len - 1);

      frame.kind = classify (parent->kind, ns, local, names, values);
    }

  switch (frame.kind)
    {
    case ELEMENT_EMAIL_PROVIDER:
      /* ISPDB files describe one provider; a second one is not ours to
       * merge. */
      if (state->provider != NULL)
        {
          frame.kind = ELEMENT_IGNORED;
          break;
        }
      state->provider = ms_provider_new ();
      state->provider->id = g_strdup (get_attribute (names, values, "id"));
      state->provider_line = tag_line (context);
      break;

    case ELEMENT_INCOMING_SERVER:
    case ELEMENT_OUTGOING_SERVER:
      server_clear (&state->server);
      state->server.line = tag_line (context);
      break;

    case ELEMENT_DOCUMENTATION:
      if (state->provider->documentation_url == NULL)
        state->provider->documentation_url =
          g_strdup (get_attribute (names, values, "url"));
      break;

    case ELEMENT_PASSWORD:
      g_free (state->provider->password_kind);
      state->provider->password_kind =
        g_strdup (get_attribute (names, values, "kind"));
      break;

    case ELEMENT_IGNORED:
    case ELEMENT_CLIENT_CONFIG:
    case ELEMENT_DOMAIN:
    case ELEMENT_DISPLAY_NAME:
    case ELEMENT_DISPLAY_SHORT_NAME:
    case ELEMENT_HOSTNAME:
    case ELEMENT_PORT:
    case ELEMENT_SOCKET_TYPE:
    case ELEMENT_USERNAME:
    case ELEMENT_AUTHENTICATION:
    case ELEMENT_USERNAME_CANDIDATE:
    case ELEMENT_PASSWORD_HINT:
    case ELEMENT_PASSWORD_URL:
    case ELEMENT_STATUS_PAGE:
    case ELEMENT_MX_DOMAIN:
      break;
    }

  if (takes_text (frame.kind))
    g_string_truncate (state->text, 0);

  g_array_append_val (state->frames, frame);
}

static void
on_text (GMarkupParseContext *context,
         const char *text,
         gsize length,
         gpointer user_data,
         GError **error)
{
  ParseState *state = user_data;
  Frame *top;

  if (state->frames->len == 0)
    return;

  top = &g_array_index (state->frames, Frame, state->frames->len - 1);
  if (takes_text (top->kind))
    g_string_append_len (state->text, text, length);
}

/* Prose from a file is wrapped to fit the editor; say it on one line. */
static char *
collapse_white_space (const char *text)
{
  g_auto (GStrv) words = g_strsplit_set (text, " \t\r\n", -1);
  GString *out = g_string_new (NULL);

  for (guint i = 0; words[i] != NULL; i++)
    {
      if (words[i][0] == '\0')
        continue;
      if (out->len > 0)
        g_string_append_c (out, ' ');
      g_string_append (out, words[i]);
    }

  return g_string_free (out, FALSE);
}

static gboolean
contains_space (const char *text)
{
  for (const char *p = text; *p != '\0'; p++)
    if (g_ascii_isspace (*p))
      return TRUE;

  return FALSE;
}

static gboolean
str_ptr_array_contains (GPtrArray *array,
                        const char *text)
{
  return g_ptr_array_find_with_equal_func (array, text, g_str_equal, NULL);
}

/* Checks the server just closed and, if it can carry a password safely,
 * appends it to @endpoints. */
static gboolean
finish_server (ParseState *state,
               GPtrArray *endpoints,
               const char *protocol,
               GError **error)
{
  Server *server = &state->server;
  MsSecurity security;
  guint64 port;
  g_autoptr (GError) port_error = NULL;

  if (server->hostname == NULL || server->hostname[0] == '\0'
      || contains_space (server->hostname))
    return fail (state, server->line, error,
                 "the %s server has no valid <hostname>", protocol);

  if (server->port == NULL)
    return fail (state, server->line, error,
                 "the %s server has no <port>", protocol);
  if (!g_ascii_string_to_unsigned (server->port, 10, 1, G_MAXUINT16,
                                   &port, &port_error))
    return fail (state, server->line, error,
                 "the %s server’s port “%s” is not a number from 1 to 65535 (%s)",
                 protocol, server->port, port_error->message);

  if (server->socket_type == NULL)
    return fail (state, server->line, error,
                 "the %s server has no <socketType>", protocol);
  if (g_ascii_strcasecmp (server->socket_type, "SSL") == 0)
    security = MS_SECURITY_TLS;
  else if (g_ascii_strcasecmp (server->socket_type, "STARTTLS") == 0)
    security = MS_SECURITY_STARTTLS;
  else if (g_ascii_strcasecmp (server->socket_type, "plain") == 0)
    {
      /* Credentials are never sent without TLS. */
      g_debug ("%s:%d: skipping the %s server %s:%s, which has no TLS",
               state->source_name, server->line, protocol,
               server->hostname, server->port);
      return TRUE;
    }
  else
    return fail (state, server->line, error,
                 "the %s server’s socketType “%s” is not SSL, STARTTLS or "
                 "plain", protocol, server->socket_type);

  /* All we have to log in with is a password. */
  if (server->n_methods > 0 && server->n_password_methods == 0)
    {
      g_debug ("%s:%d: skipping the %s server %s:%s, which takes no "
               "password", state->source_name, server->line, protocol,
               server->hostname, server->port);
      return TRUE;
    }

  /* Most providers log in with the whole address; Thunderbird assumes
   * the same when <username> is left out. */
  g_ptr_array_add (endpoints,
                   ms_endpoint_new (server->hostname, (guint16) port,
                                    security,
                                    server->username != NULL
                                      ? server->username
                                      : "%EMAILADDRESS%"));
  return TRUE;
}

static gboolean
finish_provider (ParseState *state,
                 GError **error)
{
  MsProvider *provider = state->provider;
  int line = state->provider_line;

  if (provider->domains->len == 0)
    return fail (state, line, error, "the provider has no <domain>");

  if (provider->id == NULL || provider->id[0] == '\0')
    {
      g_free (provider->id);
      provider->id = g_strdup (g_ptr_array_index (provider->domains, 0));
    }

  if (provider->imap->len == 0)
    return fail (state, line, error,
                 "the provider has no IMAP server that uses TLS and takes a "
                 "password");
  if (provider->smtp->len == 0)
    return fail (state, line, error,
                 "the provider has no SMTP server that uses TLS and takes a "
                 "password");

  if (provider->imap_username_candidates->len == 0)
    {
      MsEndpoint *imap = g_ptr_array_index (provider->imap, 0);

      g_ptr_array_add (provider->imap_username_candidates,
                       g_strdup (imap->username_template));
    }

  if (provider->display_name == NULL)
    provider->display_name = g_strdup (provider->id);
  if (provider->short_name == NULL)
    provider->short_name = g_strdup (provider->display_name);

  return TRUE;
}

/* Stores the first occurrence only: later ones would be a mistake in the
 * file, and the first is what Thunderbird shows. */
static void
set_once (char **field,
          const char *value)
{
  if (*field == NULL)
    *field = g_strdup (value);
}

static void
on_end_element (GMarkupParseContext *context,
                const char *element_name,
                gpointer user_data,
                GError **error)
{
  ParseState *state = user_data;
  Frame frame = g_array_index (state->frames, Frame, state->frames->len - 1);
  MsProvider *provider = state->provider;
  Server *server = &state->server;
  g_autofree char *value = NULL;

  g_array_set_size (state->frames, state->frames->len - 1);
  g_ptr_array_remove_range (state->bindings,
                            state->bindings->len - frame.n_bindings,
                            frame.n_bindings);

  if (takes_text (frame.kind))
    value = g_strstrip (g_strdup (state->text->str));

  switch (frame.kind)
    {
    case ELEMENT_CLIENT_CONFIG:
      if (provider == NULL)
        fail (state, tag_line (context), error,
              "the file has no <emailProvider>");
      break;

    case ELEMENT_EMAIL_PROVIDER:
      finish_provider (state, error);
      break;

    case ELEMENT_DOMAIN:
      {
        g_autofree char *domain = g_utf8_strdown (value, -1);

        if (domain[0] == '\0' || contains_space (domain))
          {
            fail (state, tag_line (context), error,
                  "“%s” is not a domain", value);
            break;
          }
        if (!str_ptr_array_contains (provider->domains, domain))
          g_ptr_array_add (provider->domains, g_steal_pointer (&domain));
      }
      break;

    case ELEMENT_DISPLAY_NAME:
      set_once (&provider->display_name, value);
      break;

    case ELEMENT_DISPLAY_SHORT_NAME:
      set_once (&provider->short_name, value);
      break;

    case ELEMENT_INCOMING_SERVER:
      finish_server (state, provider->imap, "IMAP", error);
      server_clear (server);
      break;

    case ELEMENT_OUTGOING_SERVER:
      finish_server (state, provider->smtp, "SMTP", error);
      server_clear (server);
      break;

    case ELEMENT_HOSTNAME:
      set_once (&server->hostname, value);
      break;

    case ELEMENT_PORT:
      set_once (&server->port, value);
      break;

    case ELEMENT_SOCKET_TYPE:
      set_once (&server->socket_type, value);
      break;

    case ELEMENT_USERNAME:
      set_once (&server->username, value);
      break;

    case ELEMENT_AUTHENTICATION:
      server->n_methods++;
      /* "plain" and "secure" are the names of ISPDB's first version. */
      if (strcmp (value, "password-cleartext") == 0
          || strcmp (value, "password-encrypted") == 0
          || strcmp (value, "plain") == 0
          || strcmp (value, "secure") == 0)
        server->n_password_methods++;
      break;

    case ELEMENT_USERNAME_CANDIDATE:
      if (value[0] == '\0')
        {
          fail (state, tag_line (context), error,
                "<%s> is empty", element_name);
          break;
        }
      if (!str_ptr_array_contains (provider->imap_username_candidates, value))
        g_ptr_array_add (provider->imap_username_candidates,
                         g_steal_pointer (&value));
      break;

    case ELEMENT_PASSWORD_HINT:
      {
        g_autofree char *hint = collapse_white_space (value);

        /* The shipped hints are in po/ (see po/its/), so people read
         * them in their language.  Not _(""): that is the catalogue's
         * header. */
        g_free (provider->password_hint);
        provider->password_hint = g_strdup (hint[0] != '\0' ? _(hint) : hint);
      }
      break;

    case ELEMENT_PASSWORD_URL:
      g_free (provider->password_url);
      provider->password_url = g_steal_pointer (&value);
      break;

    case ELEMENT_STATUS_PAGE:
      g_free (provider->status_url);
      provider->status_url = g_steal_pointer (&value);
      break;

    case ELEMENT_MX_DOMAIN:
      g_ptr_array_add (provider->mx_domains, g_ascii_strdown (value, -1));
      break;

    case ELEMENT_IGNORED:
    case ELEMENT_DOCUMENTATION:
    case ELEMENT_PASSWORD:
      break;
    }
}

static const GMarkupParser parser = {
  .start_element = on_start_element,
  .end_element = on_end_element,
  .text = on_text,
};

MsProvider *
ms_provider_parse (const char *text,
                   gssize length,
                   const char *source_name,
                   GError **error)
{
  g_autoptr (GMarkupParseContext) context = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autoptr (MsProvider) provider = NULL;
  ParseState state = { 0 };

  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (source_name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  state.source_name = source_name;
  state.frames = g_array_new (FALSE, FALSE, sizeof (Frame));
  state.bindings =
    g_ptr_array_new_with_free_func ((GDestroyNotify) binding_free);
  state.text = g_string_new (NULL);

  context = g_markup_parse_context_new (&parser,
                                        G_MARKUP_TREAT_CDATA_AS_TEXT,
                                        &state, NULL);

  if (g_markup_parse_context_parse (context, text, length, &local_error)
      && g_markup_parse_context_end_parse (context, &local_error))
    provider = g_steal_pointer (&state.provider);

  /* GMarkup rejects a document without elements itself; this only
   * guards the assumption. */
  if (local_error == NULL && provider == NULL)
    fail (&state, 1, &local_error, "the file has no <emailProvider>");

  g_array_unref (state.frames);
  g_ptr_array_unref (state.bindings);
  g_string_free (state.text, TRUE);
  g_clear_pointer (&state.provider, ms_provider_unref);
  server_clear (&state.server);

  if (local_error != NULL)
    {
      if (!state.error_is_ours)
        g_prefix_error (&local_error, "%s: ", source_name);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  provider->source_file = g_strdup (source_name);
  return g_steal_pointer (&provider);
}
