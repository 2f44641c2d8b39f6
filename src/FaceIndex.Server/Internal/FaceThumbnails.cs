using System.Globalization;
using FaceIndex.Engine;
using FaceIndex.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FaceIndex.Server.Internal;

/// <summary>
/// The 112×112 JPEG thumbnails of stored faces (<see cref="StorageOptions.KeepThumbnails"/>): one store blob
/// per face under <c>thumbnails/</c> + the face id in 20 digits. A thumbnail is written after its face's
/// commit and deleted after the face's delete; a crash between the two leaves a face without a thumbnail
/// (GetFaceThumbnail says NotFound) or a thumbnail without a face, which the sweep at start-up (and after a
/// collection is deleted) removes, so no picture outlives its face for longer than a restart.
/// The index never reads thumbnails.
/// </summary>
internal sealed partial class FaceThumbnails(ServerRuntime runtime, IOptions<StorageOptions> storage, ILogger<FaceThumbnails> logger) : IHostedService
{
    /// <summary>Blob-key prefix of the thumbnails.</summary>
    public const string Prefix = "thumbnails/";

    /// <summary>JPEG quality of the thumbnails the pipeline makes when they are kept.</summary>
    public const int Quality = 85;

    private readonly Lock _gate = new();
    private Task _sweep = Task.CompletedTask;

    /// <summary>Whether new faces get thumbnails.</summary>
    public bool Enabled { get; } = storage.Value.KeepThumbnails;

    public static string Key(long faceId) => Prefix + faceId.ToString("D20", CultureInfo.InvariantCulture);

    /// <summary>Stores the thumbnails of newly stored faces (one per face, in order; null entries are skipped).</summary>
    public async Task StoreAsync(IReadOnlyList<FaceRecord> faces, IReadOnlyList<byte[]?> thumbnails, CancellationToken ct)
    {
        if (!Enabled)
        {
            return;
        }

        var writes = new List<Task>(faces.Count);
        for (int i = 0; i < faces.Count && i < thumbnails.Count; i++)
        {
            if (thumbnails[i] is { } jpeg)
            {
                writes.Add(runtime.Database.PutBlobAsync(Key(faces[i].FaceId), jpeg, ct));
            }
        }

        await Task.WhenAll(writes).ConfigureAwait(false);
    }

    /// <summary>Gives each copied face (a migration) the thumbnail of the face it was copied from, when one was kept.</summary>
    public async Task CopyAsync(IReadOnlyList<CopiedFace> faces, CancellationToken ct)
    {
        var writes = new List<Task>();
        foreach (var face in faces)
        {
            if (TryGet(face.From, out var jpeg))
            {
                writes.Add(runtime.Database.PutBlobAsync(Key(face.To), jpeg, ct));
            }
        }

        await Task.WhenAll(writes).ConfigureAwait(false);
    }

    /// <summary>The thumbnail of a face; false when none was kept.</summary>
    public bool TryGet(long faceId, out byte[] jpeg)
    {
        if (runtime.Database.TryGetBlob(Key(faceId), out var value))
        {
            jpeg = value;
            return true;
        }

        jpeg = [];
        return false;
    }

    /// <summary>Deletes the thumbnails of deleted faces (each delete shares the store's group commits).</summary>
    public async Task DeleteAsync(IEnumerable<long> faceIds, CancellationToken ct)
    {
        var deletes = new List<Task>();
        foreach (long faceId in faceIds)
        {
            deletes.Add(runtime.Database.DeleteBlobAsync(Key(faceId), ct));
        }

        await Task.WhenAll(deletes).ConfigureAwait(false);
    }

    /// <summary>Deletes every thumbnail whose face no longer exists; returns how many.</summary>
    public async Task<int> SweepAsync(CancellationToken ct)
    {
        var database = runtime.Database;
        var orphans = new List<long>();
        foreach (var key in database.ListBlobKeys(Prefix))
        {
            if (long.TryParse(key.AsSpan(Prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out long faceId) && !database.TryGetFace(faceId, out _))
            {
                orphans.Add(faceId);
            }
        }

        await DeleteAsync(orphans, ct).ConfigureAwait(false);
        if (orphans.Count > 0)
        {
            LogSwept(logger, orphans.Count);
        }

        return orphans.Count;
    }

    /// <summary>Starts a sweep after a collection's faces were deleted (in the background; the next start sweeps too).</summary>
    public void SweepLater()
    {
        lock (_gate)
        {
            _sweep = _sweep.ContinueWith(_ => SweepQuietlyAsync(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).Unwrap();
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        SweepLater();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Task sweep;
        lock (_gate)
        {
            sweep = _sweep;
        }

        return sweep.WaitAsync(cancellationToken);
    }

    private async Task SweepQuietlyAsync()
    {
        try
        {
            await SweepAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is FaceIndex.Core.FaceIndexException or InvalidOperationException or ObjectDisposedException)
        {
            LogSweepFailed(logger, ex);
        }
    }

    [LoggerMessage(5080, LogLevel.Information, "Deleted {Count} thumbnails whose faces no longer exist")]
    private static partial void LogSwept(ILogger logger, int count);

    [LoggerMessage(5081, LogLevel.Warning, "The thumbnail sweep failed; it runs again at the next start")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}
