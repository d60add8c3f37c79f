/* lookup-loop.c: sequential calls to mailsetupd from one libdbus client,
 * for bench/run.
 *
 *   lookup-loop [-n N] [-m lookup|objects|ping] [-a ADDRESS] [-s]
 *
 * Connects to the session bus once, makes N calls one after the other
 * (each waits for its reply: dbus_connection_send_with_reply_and_block),
 * and prints one JSON object: {"method", "calls", "seconds",
 * "per_second", "errors"}, with -s also "us": [each call's time in µs].
 *
 *   lookup   Manager.LookupProvider("jane@icloud.com")   (default)
 *   objects  ObjectManager.GetManagedObjects()
 *   ping     Peer.Ping(): the cost of an empty round trip through the bus
 *
 * Build: cc -O2 lookup-loop.c $(pkg-config --cflags --libs dbus-1)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <dbus/dbus.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NAME "org.mailsetup.MailSetup1"
#define PATH "/org/mailsetup/MailSetup1"

static double
now (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main (int argc, char **argv)
{
  const char *method = "lookup";
  const char *address = "jane@icloud.com";
  long n = 5000;
  int samples = 0;
  int opt;
  DBusError error = DBUS_ERROR_INIT;
  DBusConnection *bus;
  double *us, start, total;
  long errors = 0;

  while ((opt = getopt (argc, argv, "n:m:a:s")) != -1)
    switch (opt)
      {
      case 'n': n = atol (optarg); break;
      case 'm': method = optarg; break;
      case 'a': address = optarg; break;
      case 's': samples = 1; break;
      default:
        fprintf (stderr, "usage: %s [-n N] [-m lookup|objects|ping] [-a ADDRESS] [-s]\n", argv[0]);
        return 2;
      }

  bus = dbus_bus_get_private (DBUS_BUS_SESSION, &error);
  if (bus == NULL)
    {
      fprintf (stderr, "lookup-loop: %s\n", error.message);
      return 1;
    }
  us = calloc (n > 0 ? n : 1, sizeof *us);

  start = now ();
  for (long i = 0; i < n; i++)
    {
      DBusMessage *call, *reply;
      double t;

      if (strcmp (method, "objects") == 0)
        call = dbus_message_new_method_call (NAME, PATH, "org.freedesktop.DBus.ObjectManager",
                                             "GetManagedObjects");
      else if (strcmp (method, "ping") == 0)
        call = dbus_message_new_method_call (NAME, PATH, "org.freedesktop.DBus.Peer", "Ping");
      else
        {
          call = dbus_message_new_method_call (NAME, PATH, "org.mailsetup.MailSetup1.Manager",
                                               "LookupProvider");
          dbus_message_append_args (call, DBUS_TYPE_STRING, &address, DBUS_TYPE_INVALID);
        }

      t = now ();
      reply = dbus_connection_send_with_reply_and_block (bus, call, 60000, &error);
      us[i] = (now () - t) * 1e6;
      dbus_message_unref (call);
      if (reply == NULL)
        {
          if (errors++ == 0)
            fprintf (stderr, "lookup-loop: %s: %s\n", error.name, error.message);
          dbus_error_free (&error);
        }
      else
        dbus_message_unref (reply);
    }
  total = now () - start;

  printf ("{\"method\": \"%s\", \"calls\": %ld, \"seconds\": %.6f, \"per_second\": %.1f, \"errors\": %ld",
          method, n, total, total > 0 ? n / total : 0.0, errors);
  if (samples)
    {
      printf (", \"us\": [");
      for (long i = 0; i < n; i++)
        printf ("%s%.1f", i ? ", " : "", us[i]);
      printf ("]");
    }
  printf ("}\n");

  free (us);
  dbus_connection_close (bus);
  dbus_connection_unref (bus);
  return errors ? 1 : 0;
}
