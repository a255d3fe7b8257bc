import { MigrationInterface, QueryRunner } from "typeorm";

export class WebhookOutboxOneRowPerEvent1796681593396 implements MigrationInterface {
    name = 'WebhookOutboxOneRowPerEvent1796681593396'

    public async up(queryRunner: QueryRunner): Promise<void> {
        // Reordered by hand: the unique index first, so deliveries are never without one on event_id.
        await queryRunner.query(`CREATE UNIQUE INDEX \`idx_webhook_deliveries_event_endpoint\` ON \`webhook_deliveries\` (\`event_id\`, \`endpoint_id\`)`);
        await queryRunner.query(`DROP INDEX \`idx_webhook_deliveries_event\` ON \`webhook_deliveries\``);
        // By hand: the events written before this were fanned out when written (their deliveries exist), so
        // they start as fanned out; new rows default to not yet (both ALTERs change metadata only).
        await queryRunner.query(`ALTER TABLE \`webhook_events\` ADD \`fanned_out\` tinyint NOT NULL DEFAULT 1`);
        await queryRunner.query(`ALTER TABLE \`webhook_events\` ALTER \`fanned_out\` SET DEFAULT 0`);
        await queryRunner.query(`CREATE INDEX \`idx_webhook_events_fan_out\` ON \`webhook_events\` (\`fanned_out\`, \`id\`)`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        // Events not fanned out yet get no deliveries from the older code: let the workers fan them out first.
        await queryRunner.query(`CREATE INDEX \`idx_webhook_deliveries_event\` ON \`webhook_deliveries\` (\`event_id\`)`);
        await queryRunner.query(`DROP INDEX \`idx_webhook_deliveries_event_endpoint\` ON \`webhook_deliveries\``);
        await queryRunner.query(`DROP INDEX \`idx_webhook_events_fan_out\` ON \`webhook_events\``);
        await queryRunner.query(`ALTER TABLE \`webhook_events\` DROP COLUMN \`fanned_out\``);
    }

}
