namespace FaceIndex.Benchmarks.Vision;

/// <summary>Locates the models and the deepface photographs for the vision benchmarks.</summary>
internal static class BenchImages
{
    /// <summary>The folder holding FaceIndex.sln, found upwards from the binary (or the working directory).</summary>
    public static string RepoRoot
    {
        get
        {
            foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
            {
                for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                {
                    if (File.Exists(Path.Combine(dir.FullName, "FaceIndex.sln")))
                    {
                        return dir.FullName;
                    }
                }
            }

            throw new InvalidOperationException("FaceIndex.sln not found above the binary or the working directory.");
        }
    }

    /// <summary>The models folder ($FACEINDEX_MODELS or models/ in the repository).</summary>
    public static string Models =>
        Environment.GetEnvironmentVariable("FACEINDEX_MODELS") is { Length: > 0 } dir ? dir : Path.Combine(RepoRoot, "models");

    /// <summary>../shared/faces/deepface beside the repository ($FACEINDEX_FACES or $FACEINDEX_SHARED/faces overrides ../shared/faces).</summary>
    public static string Deepface => Path.Combine(Faces, "deepface");

    /// <summary>The face image sets: $FACEINDEX_FACES, else $FACEINDEX_SHARED/faces, else ../shared/faces beside the repository.</summary>
    public static string Faces =>
        Environment.GetEnvironmentVariable("FACEINDEX_FACES") is { Length: > 0 } faces ? faces
        : Path.Combine(Environment.GetEnvironmentVariable("FACEINDEX_SHARED") is { Length: > 0 } shared ? shared : Path.Combine(RepoRoot, "..", "shared"), "faces");

    /// <summary>Every JPEG of a folder, in ordinal order, read into memory.</summary>
    public static List<(string Name, byte[] Bytes)> Load(string directory)
    {
        var files = Directory.GetFiles(directory, "*.jpg");
        Array.Sort(files, StringComparer.Ordinal);
        var images = new List<(string, byte[])>(files.Length);
        foreach (var file in files)
        {
            images.Add((Path.GetFileName(file), File.ReadAllBytes(file)));
        }

        return images;
    }
}
