/* cmd-export.c: mailsetupctl export [--install [--force]] ADDRESS FORMAT
 *
 * Has the daemon write the account's settings for a mail program
 * (Account.Export) and prints them, or with --install saves them where
 * that program reads them.  FORMAT "goa" publishes the account to GNOME
 * Online Accounts instead, which is the daemon's to do.
 *
 * Where each program looks, with the file used when several may be:
 *   msmtp    ~/.msmtprc, else $XDG_CONFIG_HOME/msmtp/config (msmtp(1))
 *   mbsync   ~/.mbsyncrc, else $XDG_CONFIG_HOME/isyncrc (isync 1.5;
 *            1.4 reads ~/.mbsyncrc only, which is why that comes first)
 *   neomutt  a file of its own, $XDG_CONFIG_HOME/neomutt/accounts/ADDRESS;
 *            NeoMutt reads it only when its neomuttrc says "source", so
 *            that line is added too (see neomutt_hook_up ())
 *   aerc     $XDG_CONFIG_HOME/aerc/accounts.conf
 * The first of a program's files that exists is the one it reads, and
 * so the one to write; when none does, the first.  An existing file is
 * only replaced with --force.  Thunderbird reads ISPDB files from its
 * installation's isp/ folder and from autoconfig servers, never from a
 * per-user folder, so there is nothing to install for it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "commands.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "account-lookup.h"

#define FORMAT_GOA "goa"
#define FORMAT_THUNDERBIRD "thunderbird"

/* Publishing to GOA is two calls from the daemon to goa-daemon, which may
 * have to start first; each may take the daemon's 20 s. */
#define EXPORT_CALL_TIMEOUT_MS 60000

static gboolean opt_install;
static gboolean opt_force;

const GOptionEntry ctl_export_options[] = {
  { "install", 0, 0, G_OPTION_ARG_NONE, &opt_install,
    N_("Save the settings where the program reads them"), NULL },
  { "force", 0, 0, G_OPTION_ARG_NONE, &opt_force,
    N_("With --install: replace a file that exists"), NULL },
  { NULL }
};

typedef enum {
  BASE_HOME,    /* g_get_home_dir () */
  BASE_CONFIG,  /* g_get_user_config_dir (): $XDG_CONFIG_HOME */
} BaseDir;

/* One file a program reads: @name below @base, or with @per_account a
 * file named after the address in the folder @name. */
typedef struct {
  BaseDir base;
  const char *name;
  gboolean per_account;
} Place;

#define MAX_PLACES 2

typedef struct {
  const char *format;
  Place places[MAX_PLACES];  /* in the order the program tries them */
} Target;

static const Target targets[] = {
  { "msmtp", { { BASE_HOME, ".msmtprc" }, { BASE_CONFIG, "msmtp/config" } } },
  { "mbsync", { { BASE_HOME, ".mbsyncrc" }, { BASE_CONFIG, "isyncrc" } } },
  { "neomutt", { { BASE_CONFIG, "neomutt/accounts", TRUE } } },
  { "aerc", { { BASE_CONFIG, "aerc/accounts.conf" } } },
};

static const Target *
find_target (const char *format)
{
  for (gsize i = 0; i < G_N_ELEMENTS (targets); i++)
    if (g_str_equal (targets[i].format, format))
      return &targets[i];

  return NULL;
}

/* (transfer full) */
static char *
place_path (const Place *place, const char *address)
{
  const char *base = place->base == BASE_HOME ? g_get_home_dir ()
                                              : g_get_user_config_dir ();
  g_autofree char *file = NULL;

  if (!place->per_account)
    return g_build_filename (base, place->name, NULL);

  /* The address as a file name, with no way to step out of the folder. */
  file = g_strdelimit (g_strdup (address), "/", '_');
  if (file[0] == '.')
    file[0] = '_';

  return g_build_filename (base, place->name, file, NULL);
}

/* Whether something is at @path: a file, a folder, or a link, even a
 * dangling one. */
static gboolean
path_taken (const char *path)
{
  return g_file_test (path, G_FILE_TEST_EXISTS)
         || g_file_test (path, G_FILE_TEST_IS_SYMLINK);
}

/* The file the program reads: the first of its places that exists, else
 * the first (transfer full). */
static char *
target_path (const Target *target, const char *address)
{
  for (gsize i = 0; i < MAX_PLACES && target->places[i].name != NULL; i++)
    {
      g_autofree char *path = place_path (&target->places[i], address);

      if (path_taken (path))
        return g_steal_pointer (&path);
    }

  return place_path (&target->places[0], address);
}

/* @path with the home folder as "~", for people (transfer full). */
static char *
path_for_people (const char *path)
{
  const char *home = g_get_home_dir ();
  gsize length = strlen (home);

  if (length > 1 && strncmp (path, home, length) == 0 && path[length] == '/')
    return g_strconcat ("~", path + length, NULL);

  return g_strdup (path);
}

static int
report_local_error (CtlClient *client, const char *name, int status,
                    const char *message)
{
  g_auto(DBusError) error = DBUS_ERROR_INIT;

  dbus_set_error (&error, name, "%s", message);
  ctl_client_report_error (client, &error);

  return status;
}

/* Explains why there is nothing to install for Thunderbird, and what to
 * do instead. */
static int
refuse_thunderbird (CtlClient *client, const char *address)
{
  const char *at = strrchr (address, '@');
  g_autofree char *message =
    g_strdup_printf (_("Thunderbird does not read account settings from a "
                       "folder of yours: it looks for DOMAIN.xml in the isp/ "
                       "folder of its installation (for example "
                       "/usr/lib/thunderbird/isp/, which needs administrator "
                       "rights) and on the domain's autoconfig server.\n"
                       "To use these settings, save them there:\n"
                       "  mailsetupctl export %s thunderbird | "
                       "sudo tee /usr/lib/thunderbird/isp/%s.xml\n"
                       "or type the settings that “mailsetupctl show %s” "
                       "prints into Thunderbird's account setup."),
                     address, at != NULL ? at + 1 : address, address);

  return report_local_error (client, DBUS_ERROR_NOT_SUPPORTED, CTL_EXIT_USAGE,
                             message);
}

static int
refuse_unknown (CtlClient *client, const char *format)
{
  g_autoptr(GString) known = g_string_new (NULL);
  g_autofree char *message = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (targets); i++)
    g_string_append_printf (known, "%s%s", i > 0 ? ", " : "",
                            targets[i].format);

  message = g_strdup_printf (_("--install does not know where “%s” settings "
                               "go. It installs: %s. GNOME Online Accounts "
                               "(goa) needs no --install."),
                             format, known->str);

  return report_local_error (client, DBUS_ERROR_INVALID_ARGS, CTL_EXIT_USAGE,
                             message);
}

/* Leaves the file at @path alone, and says what to do instead. */
static int
refuse_existing (CtlClient *client, const CtlAccount *account,
                 const char *format, const char *path)
{
  g_autofree char *shown = path_for_people (path);
  g_autofree char *message =
    g_strdup_printf (_("%s exists already, and is left as it is. To add the "
                       "account to it, append the settings by hand:\n"
                       "  mailsetupctl export %s %s >> %s\n"
                       "or replace the file with --force."),
                     shown, account->address, format, shown);

  return report_local_error (client, DBUS_ERROR_FILE_EXISTS, CTL_EXIT_USAGE,
                             message);
}

/* Writes all of @text to @fd and closes it; on failure, unlinks @path
 * when @made (the file is new and would be left half written). */
static gboolean
write_all (int fd, const char *path, gboolean made, const char *text,
           GError **error)
{
  gsize length = strlen (text);
  gsize written = 0;
  int saved = 0;

  while (written < length)
    {
      gssize n = write (fd, text + written, length - written);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          saved = errno;
          break;
        }
      written += (gsize) n;
    }

  if (saved == 0 && fsync (fd) < 0)
    saved = errno;
  if (close (fd) < 0 && saved == 0)
    saved = errno;

  if (saved != 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   _("Cannot write %s: %s"), path, g_strerror (saved));
      if (made)
        g_unlink (path);
      return FALSE;
    }

  return TRUE;
}

/* Writes @text to @path, mode 0600, making its folders.  Unless
 * @replace, the file must not exist yet (O_EXCL: not even one made
 * meanwhile).
 * Returns: FALSE with @error set; G_FILE_ERROR_EXIST when it exists. */
static gboolean
write_file (const char *path, const char *text, gboolean replace,
            GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  int fd;

  if (g_mkdir_with_parents (dir, 0700) < 0)
    {
      int saved = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   _("Cannot make the folder %s: %s"), dir,
                   g_strerror (saved));
      return FALSE;
    }

  /* Replaced in one step, so that a reader never sees half a file. */
  if (replace)
    return g_file_set_contents_full (path, text, -1,
                                     G_FILE_SET_CONTENTS_CONSISTENT, 0600,
                                     error);

  fd = g_open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
               0600);
  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   "%s: %s", path, g_strerror (saved));
      return FALSE;
    }

  return write_all (fd, path, TRUE, text, error);
}

/* Adds @text at the end of the existing file @path (through a link, as
 * the program that reads it follows it), leaving what is there as it
 * is. */
static gboolean
append_file (const char *path, const char *text, GError **error)
{
  int fd = g_open (path, O_WRONLY | O_APPEND | O_CLOEXEC, 0);

  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   _("Cannot write %s: %s"), path, g_strerror (saved));
      return FALSE;
    }

  return write_all (fd, path, FALSE, text, error);
}

/* What to add to neomuttrc: a "source" line for the file, with the
 * home folder as "~", which NeoMutt expands (transfer full). */
static char *
neomutt_source_line (const char *path)
{
  g_autofree char *shown = path_for_people (path);
  GString *line = g_string_new ("source \"");

  for (const char *p = shown; *p != '\0'; p++)
    {
      if (*p == '"' || *p == '\\' || *p == '`' || *p == '$')
        g_string_append_c (line, '\\');
      g_string_append_c (line, *p);
    }
  g_string_append_c (line, '"');

  return g_string_free (line, FALSE);
}

/* The files NeoMutt reads its settings from: the first of these that
 * exists, and no other (neomutt(1), FILES; find_cfg () in its init.c,
 * which tests them with access (F_OK), following links). */
static const Place neomuttrc_places[] = {
  { BASE_CONFIG, "neomutt/neomuttrc" },
  { BASE_CONFIG, "neomutt/muttrc" },
  { BASE_CONFIG, "mutt/neomuttrc" },
  { BASE_CONFIG, "mutt/muttrc" },
  { BASE_HOME, ".neomutt/neomuttrc" },
  { BASE_HOME, ".neomutt/muttrc" },
  { BASE_HOME, ".mutt/neomuttrc" },
  { BASE_HOME, ".mutt/muttrc" },
  { BASE_HOME, ".neomuttrc" },
  { BASE_HOME, ".muttrc" },
};

/* How deep "source" lines are followed, and how large a file is read. */
#define MAX_SOURCE_DEPTH 8
#define MAX_RC_SIZE (1024 * 1024)

typedef enum {
  NEOMUTTRC_UNCHANGED,  /* it reads the file already */
  NEOMUTTRC_CREATED,
  NEOMUTTRC_APPENDED,
} NeomuttrcChange;

/* The neomuttrc NeoMutt reads, or NULL if it has none (transfer full). */
static char *
find_neomuttrc (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (neomuttrc_places); i++)
    {
      g_autofree char *path = place_path (&neomuttrc_places[i], NULL);

      if (g_file_test (path, G_FILE_TEST_EXISTS))
        return g_steal_pointer (&path);
    }

  return NULL;
}

/* A "source" argument as a file name, as NeoMutt takes it: "~" is the
 * home folder, and a relative name is relative to the folder @dir of the
 * file that says it (transfer full). */
static char *
source_argument_path (const char *argument, const char *dir)
{
  if (argument[0] == '~' && (argument[1] == '/' || argument[1] == '\0'))
    return g_canonicalize_filename (argument[1] == '/' ? argument + 2 : ".",
                                    g_get_home_dir ());

  return g_canonicalize_filename (argument, dir);
}

static gboolean
same_file (const char *a, const char *b)
{
  GStatBuf sa, sb;

  if (g_str_equal (a, b))
    return TRUE;

  return g_stat (a, &sa) == 0 && g_stat (b, &sb) == 0
         && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static gboolean text_sources (const char *text, const char *dir,
                              const char *target, int depth);

/* Whether the regular file @path, or a file it sources, sources
 * @target. */
static gboolean
file_sources (const char *path, const char *target, int depth)
{
  g_autofree char *text = NULL;
  g_autofree char *dir = NULL;
  GStatBuf st;

  if (g_stat (path, &st) < 0 || !S_ISREG (st.st_mode)
      || st.st_size > MAX_RC_SIZE
      || !g_file_get_contents (path, &text, NULL, NULL))
    return FALSE;

  dir = g_path_get_dirname (path);
  return text_sources (text, dir, target, depth);
}

/* Whether the NeoMutt command @words reads @target: "source" naming it
 * or a file that does, or a hook whose command does. */
static gboolean
command_sources (GPtrArray *words, const char *dir, const char *target,
                 int depth)
{
  if (words->len == 0 || depth >= MAX_SOURCE_DEPTH)
    return FALSE;

  for (guint i = 1; i < words->len; i++)
    {
      const char *word = words->pdata[i];
      g_autofree char *path = NULL;

      if (!g_str_equal (words->pdata[0], "source"))
        {
          /* folder-hook PATTERN "source FILE", and such. */
          if (strstr (word, "source") != NULL
              && text_sources (word, dir, target, depth + 1))
            return TRUE;
          continue;
        }

      if (g_str_has_suffix (word, "|"))  /* a command's output */
        continue;

      path = source_argument_path (word, dir);
      if (same_file (path, target) || file_sources (path, target, depth + 1))
        return TRUE;
    }

  return FALSE;
}

/* Whether the NeoMutt commands in @text, read from a file in @dir,
 * source @target.  Words are split as NeoMutt does where it matters
 * here: quotes, backslashes, ";" between commands, "#" comments, a
 * backslash at the end of a line.  Variables and backticks are left as
 * they are (a file named that way is not recognised). */
static gboolean
text_sources (const char *text, const char *dir, const char *target,
              int depth)
{
  g_autoptr(GPtrArray) words = g_ptr_array_new_with_free_func (g_free);
  GString *word = NULL;
  char quote = '\0';

  for (const char *p = text;; p++)
    {
      char c = *p;

      if (quote != '\0' && c != '\0' && c != '\n')
        {
          if (c == quote)
            quote = '\0';
          else if (c == '\\' && quote == '"' && p[1] != '\0' && p[1] != '\n')
            g_string_append_c (word, *++p);
          else
            g_string_append_c (word, c);
          continue;
        }
      quote = '\0';  /* unclosed at the end of the line */

      if (c == '\\' && p[1] == '\n')
        {
          p++;
          continue;
        }

      if (c == ' ' || c == '\t' || c == '\r' || c == '#' || c == ';'
          || c == '\n' || c == '\0')
        {
          if (word != NULL)
            g_ptr_array_add (words, g_string_free (g_steal_pointer (&word),
                                                   FALSE));
          if (c == '#')
            while (p[1] != '\0' && p[1] != '\n')
              p++;
          if (c == ';' || c == '\n' || c == '\0')
            {
              gboolean found = command_sources (words, dir, target, depth);

              g_ptr_array_set_size (words, 0);
              if (found || c == '\0')
                return found;
            }
          continue;
        }

      if (word == NULL)
        word = g_string_new (NULL);

      if (c == '\'' || c == '"')
        quote = c;
      else if (c == '\\' && p[1] != '\0')
        g_string_append_c (word, *++p);
      else
        g_string_append_c (word, c);
    }
}

/* The lines added to a neomuttrc to read the account's file. */
static char *
neomutt_source_block (const char *address, const char *source)
{
  g_autofree char *name = g_strdelimit (g_strdup (address), "\r\n", ' ');

  return g_strdup_printf ("# %s, installed by \"mailsetupctl export "
                          "--install\":\n%s\n", name, source);
}

/* Makes sure NeoMutt reads the account's file at @path when it starts:
 * if it has no neomuttrc, makes $XDG_CONFIG_HOME/neomutt/neomuttrc with
 * @source in it; if the one it reads (the first that exists) does not
 * read the file yet, directly or through another "source" or a hook,
 * adds @source at its end.  The person's own lines stay as they are.
 * @rc is set to the neomuttrc, even on failure. */
static gboolean
neomutt_hook_up (const char *address, const char *path, const char *source,
                 char **rc, NeomuttrcChange *change, GError **error)
{
  g_autofree char *block = neomutt_source_block (address, source);
  g_autofree char *text = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *added = NULL;
  gsize length = 0;

  *rc = find_neomuttrc ();
  if (*rc == NULL)
    {
      *rc = place_path (&neomuttrc_places[0], NULL);
      *change = NEOMUTTRC_CREATED;
      return write_file (*rc, block, FALSE, error);
    }

  if (!g_file_get_contents (*rc, &text, &length, error))
    return FALSE;

  dir = g_path_get_dirname (*rc);
  if (text_sources (text, dir, path, 0))
    {
      *change = NEOMUTTRC_UNCHANGED;
      return TRUE;
    }

  /* After the last line, and a blank line to set it apart. */
  added = g_strconcat (length == 0 ? ""
                       : text[length - 1] == '\n' ? "\n" : "\n\n",
                       block, NULL);
  *change = NEOMUTTRC_APPENDED;
  return append_file (*rc, added, error);
}

static int
install (CtlClient *client, const CtlAccount *account, const char *format,
         const char *path, const char *text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) out = g_string_new (NULL);
  g_autofree char *shown = path_for_people (path);
  g_autofree char *source = NULL;
  g_autofree char *rc = NULL;
  g_autofree char *rc_shown = NULL;
  NeomuttrcChange change = NEOMUTTRC_UNCHANGED;

  if (!write_file (path, text, opt_force, &error))
    {
      if (g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_EXIST))
        return refuse_existing (client, account, format, path);

      return report_local_error (client, DBUS_ERROR_FAILED, CTL_EXIT_FAILURE,
                                 error->message);
    }

  g_string_append_printf (out, _("Wrote the %s settings of %s to %s.\n"),
                          format, account->address, shown);

  if (g_str_equal (format, "neomutt"))
    {
      source = neomutt_source_line (path);
      if (!neomutt_hook_up (account->address, path, source, &rc, &change,
                            &error))
        {
          /* The settings are saved; what is missing is one line. */
          g_string_append_printf (out, "%s\n", error->message);
          g_string_append_printf (out, _("Add this line to your neomuttrc:\n"
                                         "  %s\n"), source);
          g_string_truncate (out, out->len - 1);  /* the last "\n" */
          return report_local_error (client, DBUS_ERROR_FAILED,
                                     CTL_EXIT_FAILURE, out->str);
        }
      rc_shown = path_for_people (rc);
    }

  if (ctl_client_get_json (client))
    {
      static const char * const changes[] = {
        [NEOMUTTRC_UNCHANGED] = "unchanged",
        [NEOMUTTRC_CREATED] = "created",
        [NEOMUTTRC_APPENDED] = "appended",
      };
      g_auto(GVariantDict) result = G_VARIANT_DICT_INIT (NULL);
      g_autoptr(GVariant) value = NULL;

      g_variant_dict_insert (&result, "address", "s", account->address);
      g_variant_dict_insert (&result, "format", "s", format);
      g_variant_dict_insert (&result, "path", "s", path);
      if (rc != NULL)
        {
          g_variant_dict_insert (&result, "source-line", "s", source);
          g_variant_dict_insert (&result, "neomuttrc", "s", rc);
          g_variant_dict_insert (&result, "neomuttrc-change", "s",
                                 changes[change]);
        }
      value = g_variant_ref_sink (g_variant_dict_end (&result));
      ctl_print_json (value);
      return CTL_EXIT_OK;
    }

  if (rc != NULL && change == NEOMUTTRC_CREATED)
    g_string_append_printf (out, _("Created %s, NeoMutt's settings file, "
                                   "with this line to read them:\n  %s\n"),
                            rc_shown, source);
  else if (rc != NULL && change == NEOMUTTRC_APPENDED)
    g_string_append_printf (out, _("Added this line to %s, NeoMutt's "
                                   "settings file, to read them:\n  %s\n"),
                            rc_shown, source);
  else if (rc != NULL)
    g_string_append_printf (out, _("%s, NeoMutt's settings file, reads them "
                                   "already.\n"), rc_shown);
  ctl_print_text (stdout, out->str);

  return CTL_EXIT_OK;
}

static int
print_export (CtlClient *client, const CtlAccount *account, const char *format,
              const char *text)
{
  gboolean goa = g_str_equal (format, FORMAT_GOA);

  if (ctl_client_get_json (client))
    {
      g_auto(GVariantDict) result = G_VARIANT_DICT_INIT (NULL);
      g_autoptr(GVariant) value = NULL;

      g_variant_dict_insert (&result, "address", "s", account->address);
      g_variant_dict_insert (&result, "format", "s", format);
      g_variant_dict_insert (&result, goa ? "goa-path" : "text", "s", text);
      value = g_variant_ref_sink (g_variant_dict_end (&result));
      ctl_print_json (value);
    }
  else if (goa)
    {
      g_autofree char *line =
        g_strdup_printf (_("Published to GNOME Online Accounts: %s\n"), text);

      ctl_print_text (stdout, line);
    }
  else
    {
      /* As it is: a file for a program, UTF-8 whatever the locale. */
      fputs (text, stdout);
      fflush (stdout);
    }

  return CTL_EXIT_OK;
}

int
ctl_cmd_export (CtlClient *client, const char * const *args)
{
  g_auto(DBusError) error = DBUS_ERROR_INIT;
  g_autoptr(CtlAccount) account = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autofree char *path = NULL;
  const char *format = args[1];
  const Target *target = NULL;
  DBusMessage *message;
  const char *text;

  if (opt_force && !opt_install)
    return ctl_usage_error (_("--force goes with --install"));

  account = ctl_account_find (client, args[0], &error);
  if (account == NULL)
    return ctl_client_report_error (client, &error);

  if (opt_install)
    {
      if (g_str_equal (format, FORMAT_THUNDERBIRD))
        return refuse_thunderbird (client, account->address);
      target = find_target (format);
      if (target == NULL)
        return refuse_unknown (client, format);

      /* Said before the daemon is asked, so that nothing is done in
       * vain. */
      path = target_path (target, account->address);
      if (!opt_force && path_taken (path))
        return refuse_existing (client, account, format, path);
    }

  message = ctl_client_new_call (account->path, CTL_ACCOUNT_INTERFACE,
                                 "Export");
  if (!dbus_message_append_args (message, DBUS_TYPE_STRING, &format,
                                 DBUS_TYPE_INVALID))
    g_error ("Out of memory");
  reply = ctl_client_send (client, message, EXPORT_CALL_TIMEOUT_MS,
                           G_VARIANT_TYPE ("(s)"), &error);
  dbus_message_unref (message);
  if (reply == NULL)
    return ctl_client_report_error (client, &error);

  g_variant_get (reply, "(&s)", &text);

  if (target != NULL)
    return install (client, account, format, path, text);

  return print_export (client, account, format, text);
}
