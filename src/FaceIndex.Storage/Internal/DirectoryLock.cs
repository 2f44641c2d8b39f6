using FaceIndex.Core;

namespace FaceIndex.Storage.Internal;

/// <summary>
/// The exclusive hold of one process on a data directory: the file <c>LOCK</c> in it, open with
/// <see cref="FileShare.None"/> (an advisory <c>flock</c> on Linux) for as long as a store is open.
/// Two servers, or a server and an offline tool, on one directory would each replay and append
/// to the same log and overwrite each other's checkpoints; the second is refused at open instead.
/// The operating system drops the lock when the process dies, so a crash never leaves it stale.
/// </summary>
internal sealed class DirectoryLock : IDisposable
{
    /// <summary>Name of the lock file in the data directory.</summary>
    public const string FileName = "LOCK";

    private readonly FileStream _file;

    private DirectoryLock(FileStream file) => _file = file;

    /// <summary>Takes the directory, or refuses when another store holds it.</summary>
    /// <exception cref="FaceIndexException"><see cref="FaceIndexError.StorageUnavailable"/>: the directory is in use.</exception>
    public static DirectoryLock Acquire(string directory)
    {
        var path = Path.Combine(directory, FileName);
        try
        {
            return new DirectoryLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
        }
        catch (IOException ex) when (File.Exists(path) && IsHeldByAnother(path))
        {
            throw new FaceIndexException(
                FaceIndexError.StorageUnavailable,
                $"The data directory '{directory}' is in use by another FaceIndex server or tool (it holds '{path}'). " +
                "Stop that process first, or point Storage:DataDirectory at another directory.",
                ex);
        }
    }

    /// <summary>
    /// True when another process holds the lock: a shared open of the file then fails too. A lock
    /// file that cannot be opened for writing for another reason (a read-only file system, no
    /// permission) opens for reading, and the caller reports the original error instead.
    /// </summary>
    private static bool IsHeldByAnother(string path)
    {
        try
        {
            using var probe = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }

    /// <summary>Lets the directory go (what the operating system does when the process dies).</summary>
    public void Dispose() => _file.Dispose();
}
