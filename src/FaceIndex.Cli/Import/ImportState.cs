using System.Globalization;

namespace FaceIndex.Cli.Import;

/// <summary>
/// What earlier runs of an import stored, so that a re-run skips it without reading or sending the
/// image: one line per stored item, <c>size TAB mtime-ticks TAB key</c>, appended and flushed as
/// results arrive (an interrupted run keeps what it finished). A changed file (size or time) is
/// imported again; the server's idempotent enrol makes that safe anyway.
/// </summary>
internal sealed class ImportState : IDisposable
{
    private readonly Dictionary<string, (long Size, long Ticks)> _done = new(StringComparer.Ordinal);
    private readonly StreamWriter _writer;
    private readonly Lock _gate = new();

    private ImportState(string path)
    {
        Path = path;
        if (File.Exists(path))
        {
            foreach (var line in File.ReadLines(path))
            {
                var parts = line.Split('\t', 3);
                if (parts.Length == 3
                    && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out long size)
                    && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long ticks))
                {
                    _done[parts[2]] = (size, ticks);
                }
            }
        }

        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        _writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read));
    }

    public string Path { get; }

    public static ImportState Open(string path) => new(path);

    /// <summary>The default state file of importing <paramref name="source"/> into <paramref name="collection"/> at <paramref name="server"/>: under ./.faceindex/.</summary>
    public static string DefaultPath(string source, string server, string collection)
    {
        var identity = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{System.IO.Path.GetFullPath(source)}\n{server}\n{collection}"));
        return System.IO.Path.Combine(".faceindex", "import-" + Convert.ToHexStringLower(identity.AsSpan(0, 8)) + ".state");
    }

    /// <summary>True when an earlier run stored this item and the file has not changed since.</summary>
    public bool IsDone(ImportItem item, FileInfo file) =>
        _done.TryGetValue(item.Key, out var seen) && file.Exists && seen.Size == file.Length && seen.Ticks == file.LastWriteTimeUtc.Ticks;

    public void MarkDone(ImportItem item, FileInfo file)
    {
        lock (_gate)
        {
            _writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{file.Length}\t{file.LastWriteTimeUtc.Ticks}\t{item.Key}"));
            _writer.Flush();
        }
    }

    public void Dispose() => _writer.Dispose();
}
