namespace FaceIndex.Testing;

/// <summary>Locates the repository, its models and the shared face images from a test's working directory.</summary>
internal static class TestPaths
{
    /// <summary>The model version of the bundled pipeline: every vector a test sends names it.</summary>
    public const string ModelVersion = "fr512-pca128-v1";

    private static readonly Lazy<string> s_repoRoot = new(FindRepoRoot);

    /// <summary>The folder that holds FaceIndex.sln.</summary>
    public static string RepoRoot => s_repoRoot.Value;

    /// <summary>The models/ folder filled by scripts/fetch-models.sh.</summary>
    public static string Models => Path.Combine(RepoRoot, "models");

    /// <summary>../shared beside the repository (the FACEINDEX_SHARED environment variable overrides it).</summary>
    public static string Shared =>
        Environment.GetEnvironmentVariable("FACEINDEX_SHARED") is { Length: > 0 } dir ? dir : Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));

    /// <summary>A face image set under shared/faces.</summary>
    public static string Faces(params string[] parts) => Path.Combine([Shared, "faces", .. parts]);

    /// <summary>A fresh temporary directory, deleted by the returned handle.</summary>
    public static TempDirectory NewTempDirectory() => new();

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FaceIndex.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("FaceIndex.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>A temporary directory that is deleted on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "faceindex-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A process that still holds a file (a killed server) must not fail the test run.
        }
    }
}
