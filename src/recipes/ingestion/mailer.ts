import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { IngestionSettings } from './settings.js';
import type { MailOutcome, SendEmailInput } from './types.js';

export interface Mailer {
  /** Where mails go, for the start-up log (no credentials). */
  readonly target: string;
  send(email: SendEmailInput): Promise<MailOutcome>;
}

/**
 * Sends through SMTP when SMTP_URL is set (nodemailer), else writes each mail
 * as an `.eml` file, so a dev machine needs no mail server to see what would
 * have gone out. Failures are answered, not thrown: the task decides on retries.
 */
export function createMailer(settings: Pick<IngestionSettings, 'smtpUrl' | 'mailFrom' | 'emailDir'>): Mailer {
  return settings.smtpUrl ? smtpMailer(settings.smtpUrl, settings.mailFrom) : fileMailer(settings.emailDir, settings.mailFrom);
}

function smtpMailer(url: string, from: string): Mailer {
  // nodemailer's defaults wait minutes on a dead server; a job should fail fast and retry.
  const transport = nodemailer.createTransport({ url, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 });
  const parsed = new URL(url);
  return {
    target: `${parsed.protocol}//${parsed.host}`,
    async send(email) {
      try {
        const info = await transport.sendMail({ from, to: email.to, subject: email.subject, text: email.text });
        return { ok: true, messageId: info.messageId, accepted: info.accepted.map(String), response: info.response };
      } catch (error) {
        return failure(error);
      }
    },
  };
}

function fileMailer(dir: string, from: string): Mailer {
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    target: `.eml files in ${dir}`,
    async send(email) {
      try {
        const info = await transport.sendMail({ from, to: email.to, subject: email.subject, text: email.text });
        await mkdir(dir, { recursive: true });
        // Sortable by time; the random part keeps two mails of one millisecond apart.
        const file = path.join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(3).toString('hex')}.eml`);
        await writeFile(file, info.message as Buffer);
        return { ok: true, messageId: info.messageId, accepted: [email.to], response: `written to ${file}` };
      } catch (error) {
        return failure(error);
      }
    },
  };
}

/**
 * SMTP's reply classes: 5xx is a permanent refusal (no such mailbox, policy),
 * 4xx a temporary one (greylisting, mailbox busy); a connection error has no
 * code and may pass too.
 */
function failure(error: unknown): MailOutcome {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { responseCode?: unknown } | null)?.responseCode;
  if (typeof code === 'number') return { ok: false, permanent: code >= 500, message, responseCode: code };
  return { ok: false, permanent: false, message };
}
