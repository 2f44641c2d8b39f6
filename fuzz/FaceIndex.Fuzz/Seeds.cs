namespace FaceIndex.Fuzz;

/// <summary>Writes a target's seed corpus into a folder (made at run time: no face image is committed).</summary>
internal static class Seeds
{
    public static int Write(IFuzzTarget target, string directory)
    {
        Directory.CreateDirectory(directory);
        int count = 0;
        foreach (var (name, bytes) in target.Seeds())
        {
            File.WriteAllBytes(Path.Combine(directory, name), bytes);
            count++;
        }

        Console.WriteLine($"{count} seeds in {directory}");
        return 0;
    }

    /// <summary>The repository root (the folder with FaceIndex.sln) above the running program.</summary>
    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FaceIndex.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("FaceIndex.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>../shared/faces beside the repository (FACEINDEX_SHARED overrides ../shared).</summary>
    public static string Faces(params string[] parts)
    {
        var shared = Environment.GetEnvironmentVariable("FACEINDEX_SHARED") is { Length: > 0 } dir ? dir : Path.Combine(RepoRoot(), "..", "shared");
        return Path.Combine([shared, "faces", .. parts]);
    }
}
