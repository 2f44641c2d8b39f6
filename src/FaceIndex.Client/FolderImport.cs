using FaceIndex.Protocol.V1;
using Google.Protobuf;
using Grpc.Core;

namespace FaceIndex.Client;

/// <summary>Progress of a folder import: images sent, stored, failed, and faces stored so far.</summary>
public readonly record struct ImportProgress(int Total, int Done, int Stored, int Failed, int Duplicates);

/// <summary>One image that could not be stored, and why (the server's reason and message).</summary>
public sealed record ImportFailure(string Path, string Reason, string Message);

/// <summary>The outcome of a folder import.</summary>
public sealed record ImportSummary(int Total, int Stored, int Duplicates, IReadOnlyList<ImportFailure> Failures);

/// <summary>
/// Streams a folder with one sub-folder per person (its name is the person id) over one EnrollStream call.
/// Backpressure: at most <c>window</c> images are read and in flight at once; the next is read only when a
/// result has come back, so memory stays bounded whatever the folder's size. Progress is reported per result.
/// </summary>
public static class FolderImport
{
    private static readonly HashSet<string> s_extensions = new(StringComparer.OrdinalIgnoreCase) { ".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif" };

    /// <summary>The images of a person-per-folder tree: (person id, path), in a stable order.</summary>
    public static IReadOnlyList<(string PersonId, string Path)> List(string folder)
    {
        var items = new List<(string, string)>();
        foreach (var person in Directory.EnumerateDirectories(folder).Order(StringComparer.Ordinal))
        {
            foreach (var file in Directory.EnumerateFiles(person).Order(StringComparer.Ordinal))
            {
                if (s_extensions.Contains(System.IO.Path.GetExtension(file)))
                {
                    items.Add((System.IO.Path.GetFileName(person), file));
                }
            }
        }

        return items;
    }

    internal static async Task<ImportSummary> RunAsync(FaceIndexClient client, string collection, string folder, IProgress<ImportProgress>? progress, int window, long maxImageBytes, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxImageBytes, 1);
        var items = List(folder);
        using var call = client.Raw.EnrollStream(cancellationToken: ct);
        using var slots = new SemaphoreSlim(window);
        var gate = new Lock();
        var failures = new List<ImportFailure>();
        int done = 0, stored = 0, duplicates = 0;

        void Count(ImportFailure? failure, bool duplicate)
        {
            ImportProgress now;
            lock (gate)
            {
                if (failure is not null)
                {
                    failures.Add(failure);
                }
                else if (duplicate)
                {
                    duplicates++;
                }
                else
                {
                    stored++;
                }

                done++;
                now = new ImportProgress(items.Count, done, stored, failures.Count, duplicates);
            }

            progress?.Report(now);
        }

        var reader = Task.Run(
            async () =>
            {
                await foreach (var result in call.ResponseStream.ReadAllAsync(ct).ConfigureAwait(false))
                {
                    var path = result.ClientRef;
                    Count(
                        result.OutcomeCase == EnrollStreamResult.OutcomeOneofCase.Error ? new ImportFailure(path, result.Error.Reason, result.Error.Message) : null,
                        result.OutcomeCase == EnrollStreamResult.OutcomeOneofCase.Response && result.Response.Duplicate);
                    slots.Release();
                }
            },
            ct);

        for (int i = 0; i < items.Count; i++)
        {
            var (personId, path) = items[i];

            // A message over the server's limit would end the whole stream: such a file is reported, not sent.
            long length = new FileInfo(path).Length;
            if (length > maxImageBytes)
            {
                Count(new ImportFailure(path, "IMAGE_TOO_LARGE", $"The file is {length} bytes; at most {maxImageBytes} are sent (the server's Server:MaxMessageBytes)."), duplicate: false);
                continue;
            }

            await slots.WaitAsync(ct).ConfigureAwait(false);
            var bytes = await File.ReadAllBytesAsync(path, ct).ConfigureAwait(false);
            await call.RequestStream.WriteAsync(new EnrollRequest { Collection = collection, PersonId = personId, Image = ByteString.CopyFrom(bytes), ClientRef = path }, ct).ConfigureAwait(false);
        }

        await call.RequestStream.CompleteAsync().ConfigureAwait(false);
        await reader.ConfigureAwait(false);
        lock (gate)
        {
            return new ImportSummary(items.Count, stored, duplicates, [.. failures]);
        }
    }
}
