namespace FaceIndex.Clustering;

/// <summary>One line of a label file: a face key (a face id or an image path) and its identity label.</summary>
/// <param name="Key">The face id (decimal) or the image path, as written.</param>
/// <param name="Label">The identity label.</param>
public readonly record struct LabelEntry(string Key, string Label);

/// <summary>
/// Reads the label files that <c>faceindex cluster --eval</c> takes: UTF-8 text, one
/// <c>key,label</c> per line, where key is a face id or an image path and label names the
/// identity. The split is at the last comma (paths may hold commas); blank lines and lines
/// starting with <c>#</c> are skipped; an optional first entry <c>key,label</c> (any case) is a header.
/// </summary>
public static class LabelFile
{
    /// <summary>Reads every entry of a label file.</summary>
    /// <exception cref="FormatException">A line has no comma or an empty key or label; the message names the line.</exception>
    public static async Task<IReadOnlyList<LabelEntry>> ReadAsync(string path, CancellationToken cancellationToken = default)
    {
        using var reader = new StreamReader(path);
        return await ReadAsync(reader, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads every entry from a reader.</summary>
    /// <exception cref="FormatException">A line has no comma or an empty key or label; the message names the line.</exception>
    public static async Task<IReadOnlyList<LabelEntry>> ReadAsync(TextReader reader, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var entries = new List<LabelEntry>();
        int lineNumber = 0;
        bool first = true;
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            lineNumber++;
            var text = line.Trim();
            if (text.Length == 0 || text[0] == '#')
            {
                continue;
            }

            int comma = text.LastIndexOf(',');
            if (comma <= 0 || comma == text.Length - 1)
            {
                throw new FormatException($"Label file line {lineNumber}: expected 'face-id-or-path,label', got '{text}'.");
            }

            var key = text[..comma].Trim();
            var label = text[(comma + 1)..].Trim();
            bool header = first && key.Equals("key", StringComparison.OrdinalIgnoreCase) && label.Equals("label", StringComparison.OrdinalIgnoreCase);
            first = false;
            if (header)
            {
                continue;
            }

            if (key.Length == 0 || label.Length == 0)
            {
                throw new FormatException($"Label file line {lineNumber}: the key and the label must not be empty.");
            }

            entries.Add(new LabelEntry(key, label));
        }

        return entries;
    }

    /// <summary>Writes entries in the format <see cref="ReadAsync(TextReader, CancellationToken)"/> reads.</summary>
    public static async Task WriteAsync(TextWriter writer, IEnumerable<LabelEntry> entries, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(entries);
        await writer.WriteLineAsync("key,label".AsMemory(), cancellationToken).ConfigureAwait(false);
        foreach (var entry in entries)
        {
            await writer.WriteLineAsync($"{entry.Key},{entry.Label}".AsMemory(), cancellationToken).ConfigureAwait(false);
        }
    }
}
