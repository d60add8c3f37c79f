/* regression-runner.c: a main() for fuzz targets without libFuzzer
 *
 * Feeds every file named on the command line, and every file in every
 * folder named there, to LLVMFuzzerTestOneInput() once.  Built when
 * -Dfuzzing=false, so that the seed corpora (and the crashes kept in
 * them) are a regression test with any compiler and any sanitizer.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static guint
run_file (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *data = NULL;
  gsize len;

  if (!g_file_get_contents (path, &data, &len, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      exit (EXIT_FAILURE);
    }

  /* What libFuzzer does: a copy of exactly the input's size, so that
   * reading past it is caught by AddressSanitizer. */
  {
    g_autofree uint8_t *copy = g_malloc (MAX (len, 1));

    memcpy (copy, data, len);
    LLVMFuzzerTestOneInput (copy, len);
  }
  return 1;
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(char * const *) a, *(char * const *) b);
}

static guint
run_path (const char *path)
{
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GPtrArray) names = NULL;
  const char *name;
  guint count = 0;

  if (!g_file_test (path, G_FILE_TEST_IS_DIR))
    return run_file (path);

  dir = g_dir_open (path, 0, NULL);
  if (dir == NULL)
    {
      fprintf (stderr, "cannot open %s\n", path);
      exit (EXIT_FAILURE);
    }

  /* In name order, so that a failure is the same on every machine. */
  names = g_ptr_array_new_with_free_func (g_free);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (name[0] != '.')
      g_ptr_array_add (names, g_build_filename (path, name, NULL));
  g_ptr_array_sort (names, compare_names);

  for (guint i = 0; i < names->len; i++)
    {
      const char *file = names->pdata[i];

      if (g_getenv ("FUZZ_VERBOSE") != NULL)
        printf ("# %s\n", file);
      count += run_file (file);
    }

  return count;
}

int
main (int argc,
      char **argv)
{
  g_autofree char *name = g_path_get_basename (argv[0]);
  guint count = 0;

  if (argc < 2)
    {
      fprintf (stderr, "usage: %s CORPUS-FOLDER-OR-FILE...\n", argv[0]);
      return EXIT_FAILURE;
    }

  for (int i = 1; i < argc; i++)
    count += run_path (argv[i]);

  printf ("%s: %u inputs, no crash\n", name, count);
  return count > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
