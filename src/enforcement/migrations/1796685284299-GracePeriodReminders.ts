import { MigrationInterface, QueryRunner } from "typeorm";

export class GracePeriodReminders1796685284299 implements MigrationInterface {
    name = 'GracePeriodReminders1796685284299'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE \`grace_period_reminders\` (\`organization_id\` varchar(128) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`grace_period_ends_at\` datetime(3) NOT NULL, \`kind\` varchar(16) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`sent_at\` datetime(3) NOT NULL, PRIMARY KEY (\`organization_id\`, \`grace_period_ends_at\`, \`kind\`)) ENGINE=InnoDB`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP TABLE \`grace_period_reminders\``);
    }

}
