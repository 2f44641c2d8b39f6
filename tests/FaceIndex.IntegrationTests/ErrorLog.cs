using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace FaceIndex.IntegrationTests;

/// <summary>
/// A logger provider that keeps the Error-level (and worse) lines of a hosted server, so that a test
/// (or the request fuzzer, which links this file) fails on a fault the server only logged.
/// </summary>
internal sealed class ErrorLog : ILoggerProvider
{
    public ConcurrentQueue<string> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(ErrorLog owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                owner.Lines.Enqueue($"{category}: {formatter(state, exception)} {exception}");
            }
        }
    }
}
