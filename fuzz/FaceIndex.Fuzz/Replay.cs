namespace FaceIndex.Fuzz;

/// <summary>Runs saved inputs (afl-fuzz's crashes/ or a corpus) once each, outside afl-fuzz.</summary>
internal static class Replay
{
    public static int Run(IFuzzTarget target, string[] paths)
    {
        var files = paths.SelectMany(p => Directory.Exists(p) ? Directory.GetFiles(p).Where(f => !f.EndsWith("README.txt", StringComparison.Ordinal)) : [p]).Order(StringComparer.Ordinal).ToList();
        int crashes = 0;
        foreach (var file in files)
        {
            try
            {
                target.Execute(File.ReadAllBytes(file));
            }
            catch (Exception e)
            {
                crashes++;
                Console.Error.WriteLine($"CRASH {file}: {e}");
            }
        }

        Console.WriteLine($"replayed {files.Count} inputs: {crashes} crashes");
        return crashes == 0 ? 0 : 1;
    }
}
