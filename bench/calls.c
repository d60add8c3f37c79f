/* calls.c: timed calls to mailsetupd (or any service) from one libdbus
 * connection, for bench/run.  Every mode prints one JSON object.
 *
 *   calls validate N ADDRESS PASSWORD TIMEOUT_MS
 *       N sequential Manager.ValidateCredentials calls; "us": each call's
 *       time from send to reply (µs), "smtp_ports": the report's
 *       smtp-port (0 after an error), "failures": how many failed
 *   calls hold K ADDRESS PASSWORD TIMEOUT_MS
 *       sends K ValidateCredentials calls at once without waiting, prints
 *       {"sent": K} and keeps the connection until stdin closes (leaving
 *       the bus then cancels the validations)
 *   calls cycle N ADDRESS PASSWORD
 *       N times: Manager.AddAccount, then Account.Remove on its path
 *   calls start NAME PATH [-- PROGRAM ARG...]
 *       with a PROGRAM: fork+exec it and time until NAME gets an owner
 *       ("owned_ms", from NameOwnerChanged) and until a Peer.Ping to NAME
 *       at PATH, sent right after the owner appeared, is answered
 *       ("answered_ms").  Without: the Ping is sent at once and the bus
 *       activates NAME ("owned_ms", "answered_ms" the same way).  Then
 *       "ping_ms": a Ping to the running service (the cost of a call),
 *       and "pid" of the owner.  The PROGRAM's output goes to the file
 *       $CALLS_CHILD_LOG (or /dev/null); it runs in a session of its own.
 *
 * Build: cc -O2 calls.c $(pkg-config --cflags --libs dbus-1)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define _GNU_SOURCE
#include <dbus/dbus.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NAME "org.mailsetup.MailSetup1"
#define PATH "/org/mailsetup/MailSetup1"
#define MANAGER "org.mailsetup.MailSetup1.Manager"
#define ACCOUNT "org.mailsetup.MailSetup1.Account"

static double
now (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static DBusConnection *
connect_bus (void)
{
  DBusError error = DBUS_ERROR_INIT;
  DBusConnection *bus = dbus_bus_get_private (DBUS_BUS_SESSION, &error);

  if (bus == NULL)
    {
      fprintf (stderr, "calls: %s\n", error.message);
      exit (1);
    }
  dbus_connection_set_exit_on_disconnect (bus, FALSE);
  return bus;
}

/* (ssa{sv}) with options {"timeout-ms": <u>} (when timeout_ms > 0). */
static DBusMessage *
credentials_call (const char *method, const char *address, const char *password,
                  uint32_t timeout_ms)
{
  DBusMessage *call = dbus_message_new_method_call (NAME, PATH, MANAGER, method);
  DBusMessageIter args, dict, entry, variant;
  const char *key = "timeout-ms";

  dbus_message_iter_init_append (call, &args);
  dbus_message_iter_append_basic (&args, DBUS_TYPE_STRING, &address);
  dbus_message_iter_append_basic (&args, DBUS_TYPE_STRING, &password);
  dbus_message_iter_open_container (&args, DBUS_TYPE_ARRAY, "{sv}", &dict);
  if (timeout_ms > 0)
    {
      dbus_message_iter_open_container (&dict, DBUS_TYPE_DICT_ENTRY, NULL, &entry);
      dbus_message_iter_append_basic (&entry, DBUS_TYPE_STRING, &key);
      dbus_message_iter_open_container (&entry, DBUS_TYPE_VARIANT, "u", &variant);
      dbus_message_iter_append_basic (&variant, DBUS_TYPE_UINT32, &timeout_ms);
      dbus_message_iter_close_container (&entry, &variant);
      dbus_message_iter_close_container (&dict, &entry);
    }
  dbus_message_iter_close_container (&args, &dict);
  return call;
}

/* The value of "smtp-port" (q) in the report, 0 if none. */
static unsigned
smtp_port_of (DBusMessage *reply)
{
  DBusMessageIter args, dict, entry, variant;

  if (!dbus_message_iter_init (reply, &args) || dbus_message_iter_get_arg_type (&args) != DBUS_TYPE_ARRAY)
    return 0;
  for (dbus_message_iter_recurse (&args, &dict);
       dbus_message_iter_get_arg_type (&dict) == DBUS_TYPE_DICT_ENTRY;
       dbus_message_iter_next (&dict))
    {
      const char *key;
      dbus_uint16_t port;

      dbus_message_iter_recurse (&dict, &entry);
      dbus_message_iter_get_basic (&entry, &key);
      if (strcmp (key, "smtp-port") != 0)
        continue;
      dbus_message_iter_next (&entry);
      dbus_message_iter_recurse (&entry, &variant);
      if (dbus_message_iter_get_arg_type (&variant) != DBUS_TYPE_UINT16)
        return 0;
      dbus_message_iter_get_basic (&variant, &port);
      return port;
    }
  return 0;
}

static int
cmd_validate (long n, const char *address, const char *password, uint32_t timeout_ms)
{
  DBusConnection *bus = connect_bus ();
  int failures = 0;
  unsigned *ports = calloc (n > 0 ? n : 1, sizeof *ports);

  printf ("{\"us\": [");
  for (long i = 0; i < n; i++)
    {
      DBusMessage *call = credentials_call ("ValidateCredentials", address, password, timeout_ms);
      DBusError error = DBUS_ERROR_INIT;
      double t = now ();
      DBusMessage *reply = dbus_connection_send_with_reply_and_block (bus, call, timeout_ms + 30000,
                                                                      &error);

      printf ("%s%.1f", i ? ", " : "", (now () - t) * 1e6);
      dbus_message_unref (call);
      if (reply != NULL)
        {
          ports[i] = smtp_port_of (reply);
          dbus_message_unref (reply);
        }
      else
        {
          fprintf (stderr, "calls: %s: %s\n", error.name, error.message);
          dbus_error_free (&error);
          failures++;
        }
    }
  printf ("], \"smtp_ports\": [");
  for (long i = 0; i < n; i++)
    printf ("%s%u", i ? ", " : "", ports[i]);
  printf ("], \"failures\": %d}\n", failures);
  free (ports);
  return 0;
}

static int
cmd_hold (long k, const char *address, const char *password, uint32_t timeout_ms)
{
  DBusConnection *bus = connect_bus ();
  char buf[256];

  for (long i = 0; i < k; i++)
    {
      DBusMessage *call = credentials_call ("ValidateCredentials", address, password, timeout_ms);

      dbus_connection_send (bus, call, NULL);
      dbus_message_unref (call);
    }
  dbus_connection_flush (bus);
  printf ("{\"sent\": %ld}\n", k);
  fflush (stdout);

  while (read (0, buf, sizeof buf) > 0)
    ;
  dbus_connection_close (bus);
  dbus_connection_unref (bus);
  return 0;
}

static int
cmd_cycle (long n, const char *address, const char *password)
{
  DBusConnection *bus = connect_bus ();
  long failures = 0;
  double start = now ();

  for (long i = 0; i < n; i++)
    {
      DBusMessage *call = credentials_call ("AddAccount", address, password, 0);
      DBusError error = DBUS_ERROR_INIT;
      DBusMessage *reply = dbus_connection_send_with_reply_and_block (bus, call, 60000, &error);
      const char *path = NULL;

      dbus_message_unref (call);
      if (reply == NULL || !dbus_message_get_args (reply, &error, DBUS_TYPE_OBJECT_PATH, &path,
                                                   DBUS_TYPE_INVALID))
        {
          if (failures++ == 0)
            fprintf (stderr, "calls: AddAccount: %s: %s\n", error.name, error.message);
          dbus_error_free (&error);
          if (reply != NULL)
            dbus_message_unref (reply);
          continue;
        }

      call = dbus_message_new_method_call (NAME, path, ACCOUNT, "Remove");
      dbus_message_unref (reply);
      reply = dbus_connection_send_with_reply_and_block (bus, call, 60000, &error);
      dbus_message_unref (call);
      if (reply == NULL)
        {
          if (failures++ == 0)
            fprintf (stderr, "calls: Remove: %s: %s\n", error.name, error.message);
          dbus_error_free (&error);
          continue;
        }
      dbus_message_unref (reply);
    }
  printf ("{\"cycles\": %ld, \"failures\": %ld, \"seconds\": %.3f}\n", n, failures, now () - start);
  return failures ? 1 : 0;
}

static double
ping (DBusConnection *bus, const char *name, const char *path, int auto_start)
{
  DBusMessage *call = dbus_message_new_method_call (name, path, "org.freedesktop.DBus.Peer", "Ping");
  DBusError error = DBUS_ERROR_INIT;
  DBusMessage *reply;
  double t = now ();

  dbus_message_set_auto_start (call, auto_start);
  reply = dbus_connection_send_with_reply_and_block (bus, call, 30000, &error);
  t = now () - t;
  dbus_message_unref (call);
  if (reply == NULL)
    {
      fprintf (stderr, "calls: Ping %s: %s\n", name, error.message);
      exit (1);
    }
  dbus_message_unref (reply);
  return t;
}

static int
cmd_start (const char *name, const char *path, char **program)
{
  DBusConnection *bus = connect_bus ();
  DBusError error = DBUS_ERROR_INIT;
  char *rule = NULL;
  double t0, owned = -1, answered = -1, cost;
  dbus_uint32_t serial = 0;
  int waiting_reply = 0, reply_ok = 0;
  DBusMessage *reply;
  dbus_uint32_t pid = 0;

  if (asprintf (&rule, "type='signal',sender='org.freedesktop.DBus',member='NameOwnerChanged',"
                       "arg0='%s'", name) < 0)
    return 1;
  dbus_bus_add_match (bus, rule, &error);
  if (dbus_error_is_set (&error))
    {
      fprintf (stderr, "calls: %s\n", error.message);
      return 1;
    }
  if (dbus_bus_name_has_owner (bus, name, NULL))
    {
      fprintf (stderr, "calls: %s already has an owner\n", name);
      return 1;
    }

  t0 = now ();
  if (program != NULL)
    {
      pid_t child = fork ();

      if (child == 0)
        {
          /* Our stdout is the reader's pipe: the service must not hold it. */
          const char *log = getenv ("CALLS_CHILD_LOG");
          int fd = open (log ? log : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0600);
          int null = open ("/dev/null", O_RDONLY);

          dup2 (null, 0);
          dup2 (fd, 1);
          dup2 (fd, 2);
          setsid ();
          execvp (program[0], program);
          _exit (127);
        }
    }
  else
    {
      DBusMessage *call = dbus_message_new_method_call (name, path, "org.freedesktop.DBus.Peer",
                                                        "Ping");
      /* The reply is picked out of the incoming messages below. */
      dbus_connection_send (bus, call, &serial);
      dbus_message_unref (call);
      waiting_reply = 1;
    }

  while (owned < 0 || waiting_reply)
    {
      DBusMessage *m;

      if (!dbus_connection_read_write (bus, 30000))
        return 1;
      while ((m = dbus_connection_pop_message (bus)) != NULL)
        {
          const char *n1, *old, *new_owner;

          if (dbus_message_is_signal (m, "org.freedesktop.DBus", "NameOwnerChanged")
              && dbus_message_get_args (m, NULL, DBUS_TYPE_STRING, &n1, DBUS_TYPE_STRING, &old,
                                        DBUS_TYPE_STRING, &new_owner, DBUS_TYPE_INVALID)
              && strcmp (n1, name) == 0 && new_owner[0] != '\0' && owned < 0)
            owned = now () - t0;
          else if (waiting_reply && dbus_message_get_reply_serial (m) == serial
                   && (dbus_message_get_type (m) == DBUS_MESSAGE_TYPE_METHOD_RETURN
                       || dbus_message_get_type (m) == DBUS_MESSAGE_TYPE_ERROR))
            {
              answered = now () - t0;
              waiting_reply = 0;
              reply_ok = dbus_message_get_type (m) == DBUS_MESSAGE_TYPE_METHOD_RETURN;
            }
          dbus_message_unref (m);
        }
      if (now () - t0 > 30)
        {
          fprintf (stderr, "calls: %s did not start within 30 s\n", name);
          return 1;
        }
    }

  if (serial != 0)
    {
      if (!reply_ok)
        {
          fprintf (stderr, "calls: activation of %s failed\n", name);
          return 1;
        }
    }
  else
    {
      ping (bus, name, path, 0);
      answered = now () - t0;
    }

  /* The cost of a call to the running service: the best of a few. */
  cost = 1e9;
  for (int i = 0; i < 5; i++)
    {
      double c = ping (bus, name, path, 0);
      if (c < cost)
        cost = c;
    }

  {
    DBusMessage *call = dbus_message_new_method_call ("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                                      "org.freedesktop.DBus",
                                                      "GetConnectionUnixProcessID");
    dbus_message_append_args (call, DBUS_TYPE_STRING, &name, DBUS_TYPE_INVALID);
    reply = dbus_connection_send_with_reply_and_block (bus, call, 5000, &error);
    dbus_message_unref (call);
    if (reply != NULL)
      {
        dbus_message_get_args (reply, NULL, DBUS_TYPE_UINT32, &pid, DBUS_TYPE_INVALID);
        dbus_message_unref (reply);
      }
  }

  printf ("{\"owned_ms\": %.3f, \"answered_ms\": %.3f, \"ping_ms\": %.3f, \"pid\": %u}\n",
          owned * 1e3, answered * 1e3, cost * 1e3, pid);
  free (rule);
  return 0;
}

static void
usage (void)
{
  fprintf (stderr,
           "usage: calls validate N ADDRESS PASSWORD TIMEOUT_MS\n"
           "       calls hold K ADDRESS PASSWORD TIMEOUT_MS\n"
           "       calls cycle N ADDRESS PASSWORD\n"
           "       calls start NAME PATH [-- PROGRAM ARG...]\n");
  exit (2);
}

int
main (int argc, char **argv)
{
  signal (SIGPIPE, SIG_IGN);
  if (argc < 2)
    usage ();
  if (strcmp (argv[1], "validate") == 0 && argc == 6)
    return cmd_validate (atol (argv[2]), argv[3], argv[4], strtoul (argv[5], NULL, 10));
  if (strcmp (argv[1], "hold") == 0 && argc == 6)
    return cmd_hold (atol (argv[2]), argv[3], argv[4], strtoul (argv[5], NULL, 10));
  if (strcmp (argv[1], "cycle") == 0 && argc == 5)
    return cmd_cycle (atol (argv[2]), argv[3], argv[4]);
  if (strcmp (argv[1], "start") == 0 && argc >= 4)
    {
      if (argc == 4)
        return cmd_start (argv[2], argv[3], NULL);
      if (strcmp (argv[4], "--") == 0 && argc >= 6)
        return cmd_start (argv[2], argv[3], argv + 5);
    }
  usage ();
  return 2;
}
