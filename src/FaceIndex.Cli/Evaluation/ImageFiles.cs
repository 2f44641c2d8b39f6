namespace FaceIndex.Cli.Evaluation;

/// <summary>Finds image files under a folder, in a stable (ordinal) order.</summary>
internal static class ImageFiles
{
    private static readonly HashSet<string> s_extensions = new(StringComparer.OrdinalIgnoreCase) { ".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif" };

    public static List<string> Find(string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"The image folder {directory} does not exist.");
        }

        var files = Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            .Where(f => s_extensions.Contains(Path.GetExtension(f)))
            .ToList();
        files.Sort(StringComparer.Ordinal);
        return files;
    }
}
