using System.CommandLine;
using System.Globalization;
using FaceIndex.Server;
using FaceIndex.Storage;
using Microsoft.Extensions.Configuration;
using Spectre.Console;

namespace FaceIndex.Cli.Commands;

/// <summary>
/// <c>faceindex repair --data DIR [--yes]</c>: when the store refuses to start because a committed log
/// entry cannot be read (StorageCorrupted), lists what truncating the log there drops and, once
/// confirmed, truncates it so that the store opens with every entry before the bad one.
/// </summary>
internal static class RepairCommand
{
    /// <summary>Most dropped entries listed one by one (the rest are counted by kind).</summary>
    private const int ListedEntries = 50;

    public static Command Create(IAnsiConsole console)
    {
        var data = new Option<string>("--data") { Description = "The data directory of the store (no server may be running on it)", Required = true };
        var yes = new Option<bool>("--yes") { Description = "Truncate without asking (for scripts)" };
        var repair = new Command(
            "repair",
            "Repair a store that refuses to start because a committed log entry cannot be read: lists the entries from the bad one to the end of the log, then (after confirmation, or with --yes) truncates the log there. Storage settings (--Storage:Setting=value) must match the server's.")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        repair.Add(data);
        repair.Add(yes);
        repair.SetAction((parse, ct) => CliErrors.RunAsync(console, async () =>
        {
            var options = FaceIndexServer.ReadConfiguration([.. parse.UnmatchedTokens]).GetSection("Storage").Get<StorageOptions>() ?? new StorageOptions();
            options.DataDirectory = parse.GetValue(data)!;
            bool confirmed = parse.GetValue(yes);
            var plan = await FaceStore.RepairLogAsync(options, found => Confirm(console, found, confirmed), null, ct).ConfigureAwait(false);
            if (plan is null)
            {
                console.MarkupLineInterpolated($"The log of '{Path.GetFullPath(options.DataDirectory)}' is intact: nothing to repair.");
                return 0;
            }

            if (!plan.Truncated)
            {
                console.MarkupLine(confirmed ? "Nothing changed." : "Nothing changed (not confirmed; --yes truncates without asking).");
                return 1;
            }

            console.MarkupLineInterpolated(
                $"[green]Truncated[/] the log at address {plan.Damage.Address}: dropped {plan.Dropped.Count} entries; kept every entry before it (the last at address {plan.LastGoodAddress}). The store opens again.");
            return 0;
        }));
        return repair;
    }

    /// <summary>Prints what a truncation drops, then asks (unless --yes); refuses to ask when there is no terminal.</summary>
    private static bool Confirm(IAnsiConsole console, LogRepairPlan plan, bool yes)
    {
        var damage = plan.Damage;
        console.MarkupLineInterpolated($"[red]Unreadable committed log entry[/] at address {damage.Address}: expected {damage.Expected}; found: {damage.Found}.");
        console.MarkupLineInterpolated($"Truncating the log there drops {plan.Dropped.Count} entries (addresses {damage.Address} to {damage.TailAddress}):");
        var table = new Table().AddColumn("address").AddColumn("bytes").AddColumn("entry");
        foreach (var entry in plan.Dropped.Take(ListedEntries))
        {
            table.AddRow(
                entry.Address.ToString(CultureInfo.InvariantCulture),
                entry.Bytes.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(entry.Kind));
        }

        console.Write(table);
        if (plan.Dropped.Count > ListedEntries)
        {
            var counts = plan.Dropped.Skip(ListedEntries).GroupBy(e => e.Kind.StartsWith("unreadable", StringComparison.Ordinal) ? "unreadable" : e.Kind)
                .Select(g => $"{g.Count()} {g.Key}");
            console.MarkupLineInterpolated($"… and {plan.Dropped.Count - ListedEntries} more: {string.Join(", ", counts)}.");
        }

        if (yes)
        {
            return true;
        }

        if (!console.Profile.Capabilities.Interactive)
        {
            console.MarkupLine("No terminal to confirm on: run again with --yes to truncate.");
            return false;
        }

        return console.Confirm("Truncate the log here, dropping these entries?", defaultValue: false);
    }
}
