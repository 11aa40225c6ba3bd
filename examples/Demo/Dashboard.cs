using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace Demo;

/// <summary>One row of the live table.</summary>
internal sealed record PodRow(string Pod, string Address, string State, bool InChannel, long Calls);

/// <summary>
/// Shows the run: a live Spectre.Console table (pods, their state, whether the channel has them, calls each) or, with
/// --no-ui, one plain line per story step and a summary line per second.
/// </summary>
internal sealed class Dashboard(bool noUi, Func<IReadOnlyList<PodRow>> rows, Func<string> status)
{
    private readonly long _started = Stopwatch.GetTimestamp();
    private readonly Queue<string> _recent = new();

    public void Log(string message)
    {
        var line = $"t={Elapsed():F1}s {message}";
        if (noUi)
        {
            Console.WriteLine(line);
            return;
        }

        lock (_recent)
        {
            _recent.Enqueue(line);
            while (_recent.Count > 8) _recent.Dequeue();
        }
    }

    /// <summary>Refreshes the view until <paramref name="done"/> completes.</summary>
    public async Task RunAsync(Task done)
    {
        if (noUi)
        {
            while (await Task.WhenAny(done, Task.Delay(1000)).ConfigureAwait(false) != done)
            {
                var current = rows();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"t={Elapsed():F0}s {status()} | channel: {current.Count(r => r.InChannel)} endpoints | {string.Join(' ', current.Where(r => r.Calls > 0 || r.InChannel).Select(r => $"{r.Pod}={r.Calls}{(r.InChannel ? string.Empty : "(out)")}"))}"));
            }

            return;
        }

        await AnsiConsole.Live(Render()).AutoClear(false).StartAsync(async context =>
        {
            while (await Task.WhenAny(done, Task.Delay(250)).ConfigureAwait(false) != done)
            {
                context.UpdateTarget(Render());
            }

            context.UpdateTarget(Render());
        }).ConfigureAwait(false);
    }

    private double Elapsed() => Stopwatch.GetElapsedTime(_started).TotalSeconds;

    private Rows Render()
    {
        var table = new Table().Border(TableBorder.Rounded).Title($"t={Elapsed():F1}s  {Markup.Escape(status())}");
        table.AddColumn("pod");
        table.AddColumn("address");
        table.AddColumn("endpoint state");
        table.AddColumn("in channel");
        table.AddColumn(new TableColumn("calls").RightAligned());
        foreach (var row in rows())
        {
            var state = row.State switch
            {
                "ready" => "[green]ready[/]",
                "terminating" => "[yellow]terminating[/]",
                "not ready" => "[red]not ready[/]",
                _ => $"[grey]{Markup.Escape(row.State)}[/]",
            };
            table.AddRow(
                Markup.Escape(row.Pod),
                Markup.Escape(row.Address),
                state,
                row.InChannel ? "[green]yes[/]" : "[grey]no[/]",
                row.Calls.ToString(CultureInfo.InvariantCulture));
        }

        string[] lines;
        lock (_recent) lines = [.. _recent];
        var log = new Panel(new Markup(Markup.Escape(string.Join('\n', lines.DefaultIfEmpty(" "))))).Header("story").Expand();
        return new Rows(table, log);
    }
}
