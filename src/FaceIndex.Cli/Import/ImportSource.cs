using System.Globalization;

namespace FaceIndex.Cli.Import;

/// <summary>One image to enrol: who it shows, where it is, and the tags to store with its faces.</summary>
/// <param name="PersonId">The person id.</param>
/// <param name="Path">Full path of the image file.</param>
/// <param name="Key">Stable name of the item in the import state and report (the path as the source gives it).</param>
/// <param name="Tags">Tags for the enrolled faces.</param>
internal sealed record ImportItem(string PersonId, string Path, string Key, IReadOnlyDictionary<string, string> Tags);

/// <summary>
/// Reads what to import: a folder with one sub-folder per person (the folder name is the person id,
/// images anywhere below it), or a CSV manifest of <c>person_id,path[,tags]</c> rows (paths relative to
/// the manifest's folder; tags as <c>key=value;key=value</c>; an optional header row).
/// </summary>
internal static class ImportSource
{
    private static readonly IReadOnlyDictionary<string, string> s_noTags = new Dictionary<string, string>();
    private static readonly HashSet<string> s_extensions = new(StringComparer.OrdinalIgnoreCase) { ".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif" };

    public static List<ImportItem> Read(string path)
    {
        if (Directory.Exists(path))
        {
            return FromFolder(path);
        }

        if (File.Exists(path))
        {
            return FromManifest(path);
        }

        throw new FileNotFoundException($"Nothing to import at '{path}': give a folder with a sub-folder per person, or a CSV manifest (person_id,path[,tags]).");
    }

    private static List<ImportItem> FromFolder(string root)
    {
        var items = new List<ImportItem>();
        var people = Directory.GetDirectories(root);
        Array.Sort(people, StringComparer.Ordinal);
        foreach (var folder in people)
        {
            var person = System.IO.Path.GetFileName(folder);
            if (person.StartsWith('.'))
            {
                continue;
            }

            var files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
                .Where(f => s_extensions.Contains(System.IO.Path.GetExtension(f)))
                .Order(StringComparer.Ordinal);
            foreach (var file in files)
            {
                items.Add(new ImportItem(person, System.IO.Path.GetFullPath(file), System.IO.Path.GetRelativePath(root, file), s_noTags));
            }
        }

        if (items.Count == 0)
        {
            throw new InvalidDataException($"The folder '{root}' holds no images in per-person sub-folders ({string.Join(", ", s_extensions)}).");
        }

        return items;
    }

    private static List<ImportItem> FromManifest(string manifest)
    {
        var folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(manifest))!;
        var items = new List<ImportItem>();
        int lineNumber = 0;
        foreach (var line in File.ReadLines(manifest))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line) || line.StartsWith('#'))
            {
                continue;
            }

            var fields = SplitCsv(line, manifest, lineNumber);
            if (lineNumber == 1 && fields[0].Equals("person_id", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (fields.Count is < 2 or > 3 || fields[0].Length == 0 || fields[1].Length == 0)
            {
                throw new InvalidDataException($"{manifest}:{lineNumber}: expected person_id,path[,tags]; got '{line}'.");
            }

            var tags = fields.Count == 3 ? ParseTags(fields[2], manifest, lineNumber) : s_noTags;
            items.Add(new ImportItem(fields[0], System.IO.Path.GetFullPath(System.IO.Path.Combine(folder, fields[1])), fields[1], tags));
        }

        if (items.Count == 0)
        {
            throw new InvalidDataException($"The manifest '{manifest}' lists no images.");
        }

        return items;
    }

    /// <summary>Fields of one CSV line: commas separate, double quotes enclose a field that holds commas or quotes ("" is a quote).</summary>
    private static List<string> SplitCsv(string line, string manifest, int lineNumber)
    {
        var fields = new List<string>();
        var field = new System.Text.StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }
            }
            else if (c == '"' && field.Length == 0)
            {
                quoted = true;
            }
            else if (c == ',')
            {
                fields.Add(field.ToString().Trim());
                field.Clear();
            }
            else
            {
                field.Append(c);
            }
        }

        if (quoted)
        {
            throw new InvalidDataException($"{manifest}:{lineNumber}: a quoted field is not closed.");
        }

        fields.Add(field.ToString().Trim());
        return fields;
    }

    private static Dictionary<string, string> ParseTags(string text, string manifest, int lineNumber)
    {
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{manifest}:{lineNumber}: tags are key=value pairs separated by ';'; got '{pair}'."));
            }

            tags[pair[..eq].Trim()] = pair[(eq + 1)..].Trim();
        }

        return tags;
    }
}
