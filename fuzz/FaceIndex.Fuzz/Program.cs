using FaceIndex.Fuzz;

// faceindex-fuzz TARGET                      run under afl-fuzz (SharpFuzz's in-process fork server)
// faceindex-fuzz TARGET seeds DIR            write the seed corpus (from ../shared/faces and valid requests)
// faceindex-fuzz TARGET replay FILE|DIR...   run inputs once each, outside afl-fuzz; exit 1 if any crashes
// TARGET: image (decode → detect → landmarks → embed) or request (request bytes → the real service).
if (args.Length == 0 || args[0] is not ("image" or "request"))
{
    Console.Error.WriteLine("usage: faceindex-fuzz image|request [seeds DIR | replay FILE|DIR...]");
    return 2;
}

Func<IFuzzTarget> create = args[0] == "image" ? () => new ImageTarget() : () => new RequestTarget();
if (args.Length == 1)
{
    return Run(create);
}

using var target = create();
return args[1] switch
{
    "seeds" => Seeds.Write(target, args[2]),
    "replay" => Replay.Run(target, args[2..]),
    _ => 2,
};

// Instrumented code may run only once SharpFuzz has mapped afl-fuzz's coverage memory, so the
// target (models, server) is made inside the first execution.
static int Run(Func<IFuzzTarget> create)
{
    IFuzzTarget? target = null;
    SharpFuzz.Fuzzer.Run(stream =>
    {
        target ??= create();
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        try
        {
            target.Execute(buffer.ToArray());
        }
        catch (Exception e) when (Environment.GetEnvironmentVariable("FACEINDEX_FUZZ_CRASH_LOG") is { Length: > 0 } log)
        {
            // afl-fuzz keeps the input, not the exception: the log keeps what went wrong.
            File.AppendAllText(log, $"--- {DateTimeOffset.UtcNow:O}\n{e}\n");
            throw;
        }
    });
    target?.Dispose();
    return 0;
}
