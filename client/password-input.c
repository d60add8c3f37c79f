/* password-input.c: reading a password without showing or keeping it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "password-input.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "ctl-client.h"
#include "mailsetup-error.h"
#include "password.h"

/* The longest password the daemon takes, one byte to tell a longer one,
 * and the terminating NUL. */
#define BUFFER_SIZE (MS_PASSWORD_MAX_LENGTH + 2)

typedef enum {
  READ_LINE,
  READ_INTERRUPTED,
  READ_FAILED,
} ReadStatus;

/* Signals that would leave the terminal without echo if they took their
 * course while it is off. */
static const int watched_signals[] = {
  SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU,
};

static volatile sig_atomic_t caught[NSIG];
static volatile sig_atomic_t any_caught;

static void
on_signal (int signo)
{
  caught[signo] = 1;
  any_caught = 1;
}

static gboolean
is_stop_signal (int signo)
{
  return signo == SIGTSTP || signo == SIGTTIN || signo == SIGTTOU;
}

/* Reads bytes from @fd up to the end of the line or of the file, into @buf
 * (BUFFER_SIZE bytes) as far as it goes, NUL-terminated; the rest of a
 * longer line is read and dropped.  *@length is the length of the whole
 * line, without the "\n" or "\r\n" that ended it.  With @interruptible,
 * returns READ_INTERRUPTED once a watched signal has been caught. */
static ReadStatus
read_line (int fd, char *buf, gsize *length, gboolean interruptible)
{
  ReadStatus status = READ_LINE;
  gboolean newline = FALSE;
  gsize n = 0;
  char c = 0;

  for (;;)
    {
      ssize_t r;

      if (interruptible && any_caught)
        {
          status = READ_INTERRUPTED;
          break;
        }

      r = read (fd, &c, 1);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        {
          status = READ_FAILED;
          break;
        }
      if (r == 0)
        break;
      if (c == '\n')
        {
          newline = TRUE;
          break;
        }
      if (n < BUFFER_SIZE - 1)
        buf[n] = c;
      n++;
    }
  explicit_bzero (&c, sizeof c);
  if (status != READ_LINE)
    return status;

  /* The '\r' of a "\r\n" line end; not a lone '\r' before the end of the
   * file, which is the password's own (and refused by the daemon). */
  if (newline && n > 0 && n < BUFFER_SIZE && buf[n - 1] == '\r')
    n--;

  buf[MIN (n, BUFFER_SIZE - 1)] = '\0';
  *length = n;

  return READ_LINE;
}

/* Checks what the bus cannot carry, and what the daemon could not be sent
 * in full; its other rules are its own to apply and to explain.  Returns
 * @buf, or NULL (wiping and freeing @buf) with @error set. */
static char *
finish_password (char *buf, gsize length, DBusError *error)
{
  const char *name = ms_error_dbus_name (MS_ERROR_INVALID_PASSWORD);

  if (length > MS_PASSWORD_MAX_LENGTH)
    dbus_set_error (error, name,
                    _("The password is longer than %d bytes; no mail "
                      "password is that long."), MS_PASSWORD_MAX_LENGTH);
  else if (memchr (buf, '\0', length) != NULL)
    dbus_set_error_const (error, name,
                          _("The password contains a line break or another "
                            "control character. Copy it again without the "
                            "end of the line."));
  else if (!g_utf8_validate (buf, length, NULL))
    dbus_set_error_const (error, name,
                          _("The password is not valid text (UTF-8)."));
  else
    return buf;

  explicit_bzero (buf, BUFFER_SIZE);
  g_free (buf);

  return NULL;
}

char *
ctl_password_read_line (int fd, DBusError *error)
{
  char *buf = g_malloc0 (BUFFER_SIZE);
  gsize length = 0;

  if (read_line (fd, buf, &length, FALSE) != READ_LINE)
    {
      int saved_errno = errno;

      explicit_bzero (buf, BUFFER_SIZE);
      g_free (buf);
      dbus_set_error (error, DBUS_ERROR_FAILED,
                      _("Cannot read the password: %s"),
                      g_strerror (saved_errno));
      return NULL;
    }

  return finish_password (buf, length, error);
}

/* Catches the watched signals that are not ignored, keeping what was there
 * in @old_actions. */
static void
catch_signals (struct sigaction *old_actions)
{
  struct sigaction action = { 0 };

  action.sa_handler = on_signal;
  sigemptyset (&action.sa_mask);
  /* No SA_RESTART: read() must return, to restore the terminal. */
  action.sa_flags = 0;

  any_caught = 0;
  for (gsize i = 0; i < G_N_ELEMENTS (watched_signals); i++)
    {
      caught[watched_signals[i]] = 0;
      sigaction (watched_signals[i], &action, &old_actions[i]);
      /* Ignored (e.g. SIGHUP under nohup) stays ignored. */
      if (old_actions[i].sa_handler == SIG_IGN)
        sigaction (watched_signals[i], &old_actions[i], NULL);
    }
}

static void
restore_signals (const struct sigaction *old_actions)
{
  for (gsize i = 0; i < G_N_ELEMENTS (watched_signals); i++)
    sigaction (watched_signals[i], &old_actions[i], NULL);
}

/* Lets the caught signals take their course, now that the terminal is
 * restored: most end the process here.  Returns TRUE if it was stopped
 * and has been continued, so the password should be asked for again. */
static gboolean
deliver_caught_signals (void)
{
  gboolean stopped = FALSE;

  for (gsize i = 0; i < G_N_ELEMENTS (watched_signals); i++)
    {
      int signo = watched_signals[i];

      if (!caught[signo])
        continue;
      caught[signo] = 0;
      if (is_stop_signal (signo))
        stopped = TRUE;
      raise (signo);
    }

  return stopped;
}

/* One prompt: sets the terminal quiet, reads, restores it.  Sets
 * *@failure_errno on READ_FAILED. */
static ReadStatus
prompt_once (int fd, const char *prompt, char *buf, gsize *length,
             int *failure_errno)
{
  struct sigaction old_actions[G_N_ELEMENTS (watched_signals)];
  struct termios saved, quiet;
  ReadStatus status;

  if (tcgetattr (fd, &saved) < 0)
    {
      *failure_errno = errno;
      return READ_FAILED;
    }

  catch_signals (old_actions);
  ctl_print_text (stderr, prompt);

  quiet = saved;
  quiet.c_lflag &= ~(tcflag_t) (ECHO | ECHONL);
  quiet.c_lflag |= ICANON;
  if (tcsetattr (fd, TCSAFLUSH, &quiet) < 0)
    {
      *failure_errno = errno;
      status = READ_FAILED;
    }
  else
    {
      status = read_line (fd, buf, length, TRUE);
      *failure_errno = errno;
      /* Flushing drops a half-typed password that a signal cut short,
       * which the shell would otherwise read as a command. */
      tcsetattr (fd, TCSAFLUSH, &saved);
    }

  /* The Enter that the terminal did not echo. */
  g_printerr ("\n");
  restore_signals (old_actions);

  return status;
}

char *
ctl_password_read_terminal (const char *prompt, DBusError *error)
{
  ReadStatus status;
  int failure_errno = 0;
  gsize length = 0;
  char *buf;
  int fd;

  fd = open ("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd < 0)
    {
      dbus_set_error (error, DBUS_ERROR_FAILED,
                      _("Cannot open the terminal to read the password: %s"),
                      g_strerror (errno));
      return NULL;
    }

  buf = g_malloc0 (BUFFER_SIZE);

  /* Again after a stop (^Z) and fg; the other signals end the process in
   * deliver_caught_signals(), the terminal restored. */
  do
    {
      status = prompt_once (fd, prompt, buf, &length, &failure_errno);
      if (status == READ_INTERRUPTED)
        explicit_bzero (buf, BUFFER_SIZE);
    }
  while (status == READ_INTERRUPTED && deliver_caught_signals ());

  close (fd);

  if (status == READ_LINE)
    return finish_password (buf, length, error);

  explicit_bzero (buf, BUFFER_SIZE);
  g_free (buf);

  if (status == READ_INTERRUPTED)
    /* Caught, but a handler of the caller's let the process live. */
    dbus_set_error_const (error, ms_error_dbus_name (MS_ERROR_CANCELLED),
                          _("Interrupted while reading the password"));
  else
    dbus_set_error (error, DBUS_ERROR_FAILED,
                    _("Cannot read the password from the terminal: %s"),
                    g_strerror (failure_errno));

  return NULL;
}

void
ctl_password_free (char *password)
{
  if (password == NULL)
    return;

  explicit_bzero (password, strlen (password));
  g_free (password);
}
