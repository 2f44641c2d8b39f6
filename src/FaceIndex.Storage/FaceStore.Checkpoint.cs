namespace FaceIndex.Storage;

public sealed partial class FaceStore
{
    /// <summary>
    /// Takes a checkpoint of the current state now (after the writes queued before it are committed) and
    /// truncates the log behind it. Also runs every <see cref="StorageOptions.CheckpointInterval"/> and at dispose.
    /// </summary>
    public Task CheckpointAsync(CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();
        ThrowIfDisposed();
        var op = new CheckpointOp(force: true);
        var completion = op.Task;
        ObjectDisposedException.ThrowIf(!_requests.Writer.TryWrite(op), this);
        return completion.WaitAsync(ct);
    }
}
