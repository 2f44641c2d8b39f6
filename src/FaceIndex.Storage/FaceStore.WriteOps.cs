using FaceIndex.Core;

namespace FaceIndex.Storage;

public sealed partial class FaceStore
{
    /// <summary>A queued mutation: run by the writer, completed after the commit that covers it.</summary>
    private abstract class WriteOp
    {
        /// <summary>Resolves and appends the request; false when it failed (and was completed) without writing.</summary>
        public abstract bool Run(FaceStore store);

        public abstract void Complete();

        public abstract void Fail(Exception exception);
    }

    private sealed class WriteOp<T>(Func<FaceStore, T> run) : WriteOp
    {
        private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T? _result;

        public Task<T> Task => _completion.Task;

        public override bool Run(FaceStore store)
        {
            try
            {
                _result = run(store);
                return true;
            }
            catch (FaceIndexException ex)
            {
                _completion.TrySetException(ex);
                return false;
            }
        }

        public override void Complete() => _completion.TrySetResult(_result!);

        public override void Fail(Exception exception) => _completion.TrySetException(exception);
    }

    /// <summary>A checkpoint request: periodic (skipped when nothing changed) or forced by a caller.</summary>
    private sealed class CheckpointOp(bool force) : WriteOp
    {
        private readonly List<TaskCompletionSource> _waiters = [];

        public bool Force { get; private set; } = force;

        public Task Task
        {
            get
            {
                var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiters.Add(waiter);
                return waiter.Task;
            }
        }

        public CheckpointOp Merge(CheckpointOp other)
        {
            Force |= other.Force;
            _waiters.AddRange(other._waiters);
            return this;
        }

        public override bool Run(FaceStore store) => true;

        public override void Complete() => _waiters.ForEach(w => w.TrySetResult());

        public override void Fail(Exception exception) => _waiters.ForEach(w => w.TrySetException(exception));
    }
}
