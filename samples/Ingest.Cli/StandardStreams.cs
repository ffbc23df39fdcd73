using System.Runtime.InteropServices;
using System.Text;

namespace Ingest.Cli;

/// <summary>
/// Standard output and error as the CLI writes them: UTF-8 whatever the locale (JSON is UTF-8; under
/// <c>LANG=de_DE.ISO-8859-1</c> .NET's console writer turned a file named 中文.csv into <c>??.csv</c>), and a stream
/// that is closed or cannot be written is treated as <c>/dev/null</c>: the work is still done, its output dropped.
/// </summary>
/// <remarks>
/// The writers go to the file descriptors directly, never through <see cref="Console.Out"/>'s own stream: its first
/// write initializes .NET's terminal handling, which puts a terminal into keypad-transmit mode (<c>\e[?1h\e=</c>) and
/// never takes it out again.
/// </remarks>
internal static partial class StandardStreams
{
    private const int EBADF = 9;   // Linux and macOS alike.
    private const int EINTR = 4;
    private const int EAGAIN = 11; // Linux; 35 on macOS (where EDEADLK is 11 and is not a write error).
    private const int F_GETFD = 1;
    private const int O_RDWR = 2;
    private const short POLLOUT = 4;

    /// <summary>
    /// Opens <c>/dev/null</c> onto each of fds 0, 1 and 2 that is closed (<c>ingest status ... &gt;&amp;-</c>), before
    /// anything else opens a file: the next file opened takes the lowest free number, so a closed fd 1 made .NET's
    /// duplicate of standard output land on fd 2 (stderr text went into the stdout file), and a PostgreSQL socket could
    /// have become "standard output". The runtime's start-up closes whatever it opens before Main (strace of the AOT binary).
    /// </summary>
    public static void ClaimClosed()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return;
        }

        for (var fd = 0; fd <= 2; fd++)
        {
            if (fcntl(fd, F_GETFD) == -1 && Marshal.GetLastPInvokeError() == EBADF)
            {
                var opened = open("/dev/null", O_RDWR);
                if (opened >= 0 && opened != fd)
                {
                    _ = dup2(opened, fd);
                    _ = close(opened);
                }
            }
        }
    }

    /// <summary>A synchronized UTF-8 writer (no BOM) onto <paramref name="fd"/>, flushed at every write as the console's is.</summary>
    public static TextWriter Writer(int fd) =>
        TextWriter.Synchronized(new StreamWriter(new FdStream(fd), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), bufferSize: 1024, leaveOpen: true) { AutoFlush = true });

    /// <summary>
    /// Writes with <c>write(2)</c> at the descriptor's own offset (a FileStream would <c>pwrite</c> a regular file at its
    /// own position, and <c>&gt;log 2&gt;&amp;1</c> would have each stream overwrite the other). A write that fails (a
    /// reader gone, a terminal hung up, a full disk) drops this and all later output of the stream, as writing to
    /// <c>/dev/null</c> would: nothing a process can do about it, and the exit code tells the outcome.
    /// </summary>
    private sealed class FdStream(int fd) : Stream
    {
        private bool _broken;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override unsafe void Write(ReadOnlySpan<byte> buffer)
        {
            fixed (byte* start = buffer)
            {
                var at = start;
                var left = buffer.Length;
                while (left > 0 && !_broken)
                {
                    var written = write(fd, at, left);
                    if (written >= 0)
                    {
                        at += written;
                        left -= (int)written;
                        continue;
                    }

                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == EINTR)
                    {
                        continue;
                    }

                    if (errno == EAGAIN && OperatingSystem.IsLinux())
                    {
                        // A non-blocking descriptor (shared with a program that set O_NONBLOCK): wait until it takes more.
                        var poll = new PollFd { Fd = fd, Events = POLLOUT };
                        _ = Poll(ref poll, 1, -1);
                        continue;
                    }

                    _broken = true;
                }
            }
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }

    /// <summary>
    /// The width of the terminal standard output is, by <c>ioctl(TIOCGWINSZ)</c>; null when it is no terminal. The help
    /// asks this rather than <see cref="Console.WindowWidth"/>, which initializes .NET's terminal handling (keypad mode).
    /// </summary>
    public static int? TerminalColumns()
    {
        nuint request = OperatingSystem.IsLinux() ? 0x5413u : OperatingSystem.IsMacOS() ? 0x40087468u : 0;
        // A terminal that reports no size (some ptys) gets the classic 80 columns.
        return request != 0 && ioctl(1, request, out var size) == 0 ? size.Columns > 0 ? size.Columns : 80 : null;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct WinSize
    {
        public ushort Rows;
        public ushort Columns;
        public ushort Width;
        public ushort Height;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int ioctl(int fd, nuint request, out WinSize size);

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fcntl(int fd, int command);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int dup2(int from, int to);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial nint write(int fd, byte* buffer, nint count);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static partial int Poll(ref PollFd fds, nuint count, int timeout);
}
