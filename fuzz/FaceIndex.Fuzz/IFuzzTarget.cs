namespace FaceIndex.Fuzz;

/// <summary>One fuzz target: <see cref="Execute"/> returns for every input the server handles as it promises and throws for a crash.</summary>
internal interface IFuzzTarget : IDisposable
{
    /// <summary>Runs one input; an exception that escapes is a crash for afl-fuzz.</summary>
    void Execute(byte[] input);

    /// <summary>Valid inputs to start from, by name.</summary>
    IEnumerable<(string Name, byte[] Bytes)> Seeds();
}

/// <summary>Thrown when an input breaks a promise (a fault, an Internal status, an error log).</summary>
internal sealed class FuzzCrashException(string message, Exception? inner = null) : Exception(message, inner);
