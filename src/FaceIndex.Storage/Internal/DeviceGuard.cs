using FASTER.core;

namespace FaceIndex.Storage.Internal;

/// <summary>
/// Watches every write that FASTER makes to the store's files (the log's pages and commit records, the
/// key-value log, its checkpoints) and stops all writes at the first one that fails.
/// </summary>
/// <remarks>
/// <para>FASTER 2.6.5 only traces a failed write of a checkpoint's or a commit's metadata, and a
/// key-value checkpoint whose pages could not be written still completes "successfully": on a full
/// disk a checkpoint was recorded whose pages were holes, the log was truncated behind it, and a
/// restart lost acknowledged faces. The guard sees every write's outcome; the store asks it after each
/// commit and checkpoint (<see cref="ThrowIfFaulted"/>) and refuses to acknowledge or to truncate.</para>
/// <para>After the first failure every later write is refused without touching the file: no commit
/// record or checkpoint metadata can then be written over a hole, so the latest readable commit and
/// checkpoint on disk are ones whose every byte was written, and a restart recovers from them
/// (FASTER skips a checkpoint or commit whose metadata cannot be read).</para>
/// </remarks>
internal sealed class DeviceGuard
{
    /// <summary>The error code reported for a write refused after the first failure (EIO).</summary>
    private const uint RefusedErrorCode = 5;

    private string? _fault;

    /// <summary>What failed first, or null while every write succeeded.</summary>
    public string? Fault => Volatile.Read(ref _fault);

    /// <summary>Throws an <see cref="IOException"/> saying what failed once any write has failed.</summary>
    public void ThrowIfFaulted()
    {
        if (Fault is { } fault)
        {
            throw new IOException(fault);
        }
    }

    public IDevice Wrap(IDevice device) => new GuardedDevice(device, this);

    public INamedDeviceFactory Wrap(INamedDeviceFactory factory) => new GuardedDeviceFactory(factory, this);

    private void Record(string file, string what) =>
        Interlocked.CompareExchange(ref _fault, $"A write to '{file}' failed ({what}).", null);

    private static string Describe(uint errorCode) => errorCode switch
    {
        28 => "no space left on the device",
        30 => "read-only file system",
        5 => "input/output error",
        _ => $"error code {errorCode}",
    };

    /// <summary>Forwards everything to the inner device; writes pass through the guard.</summary>
    private sealed class GuardedDevice(IDevice inner, DeviceGuard guard) : IDevice
    {
        public string FileName => inner.FileName;

        public long Capacity => inner.Capacity;

        public long SegmentSize => inner.SegmentSize;

        public uint SectorSize => inner.SectorSize;

        public int StartSegment => inner.StartSegment;

        public int EndSegment => inner.EndSegment;

        public int ThrottleLimit
        {
            get => inner.ThrottleLimit;
            set => inner.ThrottleLimit = value;
        }

        public void Initialize(long segmentSize, LightEpoch? epoch = null, bool omitSegmentIdFromFilename = false) =>
            inner.Initialize(segmentSize, epoch, omitSegmentIdFromFilename);

        public bool Throttle() => inner.Throttle();

        public bool TryComplete() => inner.TryComplete();

        public void Reset() => inner.Reset();

        public long GetFileSize(int segment) => inner.GetFileSize(segment);

        public void WriteAsync(IntPtr sourceAddress, int segmentId, ulong destinationAddress, uint numBytesToWrite, DeviceIOCompletionCallback callback, object context)
        {
            if (Refused(numBytesToWrite, callback, context))
            {
                return;
            }

            Guarded(() => inner.WriteAsync(sourceAddress, segmentId, destinationAddress, numBytesToWrite, Watch(callback), context));
        }

        public void WriteAsync(IntPtr sourceAddress, ulong alignedDestinationAddress, uint numBytesToWrite, DeviceIOCompletionCallback callback, object context)
        {
            if (Refused(numBytesToWrite, callback, context))
            {
                return;
            }

            Guarded(() => inner.WriteAsync(sourceAddress, alignedDestinationAddress, numBytesToWrite, Watch(callback), context));
        }

        public void ReadAsync(int segmentId, ulong sourceAddress, IntPtr destinationAddress, uint readLength, DeviceIOCompletionCallback callback, object context) =>
            inner.ReadAsync(segmentId, sourceAddress, destinationAddress, readLength, callback, context);

        public void ReadAsync(ulong alignedSourceAddress, IntPtr alignedDestinationAddress, uint alignedReadLength, DeviceIOCompletionCallback callback, object context) =>
            inner.ReadAsync(alignedSourceAddress, alignedDestinationAddress, alignedReadLength, callback, context);

        public void RemoveSegmentAsync(int segment, AsyncCallback callback, IAsyncResult result) => inner.RemoveSegmentAsync(segment, callback, result);

        public void RemoveSegment(int segment) => inner.RemoveSegment(segment);

        public void TruncateUntilSegmentAsync(int toSegment, AsyncCallback callback, IAsyncResult result) => inner.TruncateUntilSegmentAsync(toSegment, callback, result);

        public void TruncateUntilSegment(int toSegment) => inner.TruncateUntilSegment(toSegment);

        public void TruncateUntilAddressAsync(long toAddress, AsyncCallback callback, IAsyncResult result) => inner.TruncateUntilAddressAsync(toAddress, callback, result);

        public void TruncateUntilAddress(long toAddress) => inner.TruncateUntilAddress(toAddress);

        public void Dispose() => inner.Dispose();

        /// <summary>Completes a write with an error, without writing, once the guard has seen a failure.</summary>
        private bool Refused(uint numBytes, DeviceIOCompletionCallback callback, object context)
        {
            if (guard.Fault is null)
            {
                return false;
            }

            callback(RefusedErrorCode, numBytes, context);
            return true;
        }

        private DeviceIOCompletionCallback Watch(DeviceIOCompletionCallback callback) => (errorCode, numBytes, context) =>
        {
            if (errorCode != 0)
            {
                guard.Record(inner.FileName, Describe(errorCode));
            }

            callback(errorCode, numBytes, context);
        };

        private void Guarded(Action write)
        {
            try
            {
                write();
            }
            catch (Exception ex)
            {
                guard.Record(inner.FileName, ex.Message);
                throw;
            }
        }
    }

    /// <summary>Hands out guarded devices for FASTER's checkpoint and commit files.</summary>
    private sealed class GuardedDeviceFactory(INamedDeviceFactory inner, DeviceGuard guard) : INamedDeviceFactory
    {
        public void Initialize(string baseName) => inner.Initialize(baseName);

        public IDevice Get(FileDescriptor fileInfo) => guard.Wrap(inner.Get(fileInfo));

        public IEnumerable<FileDescriptor> ListContents(string path) => inner.ListContents(path);

        public void Delete(FileDescriptor fileInfo) => inner.Delete(fileInfo);
    }
}
